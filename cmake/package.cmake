# The Debian package (BETSDB_DEB=ON, the "package" preset; scripts/package):
# betsdb_<version>_amd64.deb with the binary (migrations and web UI built in),
# a hardened systemd unit, /etc/betsdb/betsdb.env as a conffile, a man page,
# and runtime dependencies computed by dpkg-shlibdeps only.
#
# Paths are relative to "/" (CPACK_PACKAGING_INSTALL_PREFIX), because a Debian
# package spans /usr, /lib and /etc; this is why it is a separate build rather
# than install rules for every build.

find_program(HELP2MAN help2man REQUIRED)
find_program(GZIP gzip REQUIRED)
set(deb_src ${CMAKE_SOURCE_DIR}/deploy/debian)
set(deb_out ${CMAKE_BINARY_DIR}/deb)

# The man page is written from the binary's own --help, so it cannot drift
# from the options. -n: gzip without a timestamp, so the package is reproducible.
add_custom_command(
  OUTPUT ${deb_out}/betsdb.1.gz
  COMMAND ${CMAKE_COMMAND} -E make_directory ${deb_out}
  COMMAND ${HELP2MAN} --no-info --no-discard-stderr --version-string=${PROJECT_VERSION}
          --include=${deb_src}/betsdb.h2m --output=${deb_out}/betsdb.1 $<TARGET_FILE:betsdb>
  COMMAND ${GZIP} -9nf ${deb_out}/betsdb.1
  DEPENDS betsdb ${deb_src}/betsdb.h2m
  COMMENT "Writing the man page")
add_custom_command(
  OUTPUT ${deb_out}/changelog.gz
  COMMAND ${CMAKE_COMMAND} -E make_directory ${deb_out}
  COMMAND ${GZIP} -9nc ${deb_src}/changelog > ${deb_out}/changelog.gz
  DEPENDS ${deb_src}/changelog
  COMMENT "Compressing the changelog")
# As dh_strip does: CPack strips the symbols, these sections are left.
add_custom_command(TARGET betsdb POST_BUILD
  COMMAND objcopy --remove-section=.comment --remove-section=.note $<TARGET_FILE:betsdb>)
add_custom_target(deb_docs ALL DEPENDS ${deb_out}/betsdb.1.gz ${deb_out}/changelog.gz)

install(TARGETS betsdb RUNTIME DESTINATION usr/bin)
install(FILES ${deb_src}/betsdb.service DESTINATION lib/systemd/system)
install(FILES ${deb_src}/betsdb.env DESTINATION etc/betsdb)
install(FILES ${deb_out}/betsdb.1.gz DESTINATION usr/share/man/man1)
install(FILES ${deb_src}/copyright ${deb_out}/changelog.gz DESTINATION usr/share/doc/betsdb)
# What a Prometheus needs (docs/operations.md, "Monitoring with Prometheus"),
# as examples to copy: the rules, a configuration, the ledger check's script.
install(FILES ${CMAKE_SOURCE_DIR}/deploy/prometheus/betsdb.rules.yml
              ${CMAKE_SOURCE_DIR}/deploy/prometheus/prometheus.yml.example
              ${CMAKE_SOURCE_DIR}/deploy/prometheus/betsdb-check-textfile.sh
              ${CMAKE_SOURCE_DIR}/deploy/prometheus/README.md
        DESTINATION usr/share/doc/betsdb/examples/prometheus)
# The migrations run from the binary; the SQL is here for operators to read.
install(DIRECTORY ${CMAKE_SOURCE_DIR}/db/migrations/ DESTINATION usr/share/betsdb/migrations
        FILES_MATCHING PATTERN "*.sql")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME betsdb)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_CONTACT "Sports Bets DB maintainers <maintainers@betsdb.invalid>")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# CPack indents the lines after the first and turns an empty line into " .".
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "sports-betting API server with PostgreSQL and Redis
betsdb serves a JSON HTTP API and a small web UI for users and balances,
matches and odds, bets and their settlement, accumulators and cash-out, and a
betting cart, with a live odds stream. PostgreSQL holds the durable truth,
with a ledger of every balance change; Redis holds the cache, the locks
against duplicate bets and the carts.

This package runs it as a hardened systemd service under its own user.")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${deb_src}/conffiles ${deb_src}/postinst ${deb_src}/prerm ${deb_src}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
