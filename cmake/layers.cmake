# The layers of docs/architecture.md as CMake libraries whose headers only
# their dependents can see.
#
# Sources include headers by their path under src/ ("store/pg/pool.hpp"), so
# src/ itself is on no include path: each layer gets an include root of its
# own under the build tree, holding one symbolic link to its folder
# (build/.../layers/store_pg/store/pg -> src/store/pg). A target finds a
# layer's headers only through that root, which it gets only by linking the
# layer; a header of a layer it does not link is "No such file".

# betsdb_layer(NAME DIRS dir... [PUBLIC dep...] [PRIVATE dep...] [EXTRA_SOURCES file...])
# Defines the static library betsdb_NAME from src/DIR/**/*.cpp, tests excluded.
function(betsdb_layer name)
  cmake_parse_arguments(PARSE_ARGV 1 L "" "" "DIRS;PUBLIC;PRIVATE;EXTRA_SOURCES")
  set(target betsdb_${name})
  set(root ${CMAKE_BINARY_DIR}/layers/${name})
  set(sources "")
  foreach(dir IN LISTS L_DIRS)
    get_filename_component(parent ${root}/${dir} DIRECTORY)
    file(MAKE_DIRECTORY ${parent})
    file(CREATE_LINK ${CMAKE_SOURCE_DIR}/src/${dir} ${root}/${dir} SYMBOLIC)
    file(GLOB_RECURSE found CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/${dir}/*.cpp)
    list(FILTER found EXCLUDE REGEX "_test\\.cpp$")
    list(REMOVE_ITEM found ${CMAKE_SOURCE_DIR}/src/app/main.cpp)
    list(APPEND sources ${found})
  endforeach()
  add_library(${target} STATIC ${sources} ${L_EXTRA_SOURCES})
  target_include_directories(${target} PUBLIC ${root})
  target_link_libraries(${target} PUBLIC ${L_PUBLIC} PRIVATE ${L_PRIVATE})
  if(NOT name STREQUAL "util")
    target_precompile_headers(${target} REUSE_FROM betsdb_util)
  endif()
  set_property(GLOBAL APPEND PROPERTY BETSDB_LAYERS ${name})
  set_property(GLOBAL PROPERTY BETSDB_LAYER_DIRS_${name} ${L_DIRS})
endfunction()

# betsdb_layer_tests(NAME [LINK dep...]): the GoogleTest executable
# betsdb_NAME_tests from the layer's *_test.cpp files, registered with ctest.
function(betsdb_layer_tests name)
  cmake_parse_arguments(PARSE_ARGV 1 T "" "" "LINK")
  get_property(dirs GLOBAL PROPERTY BETSDB_LAYER_DIRS_${name})
  set(tests "")
  foreach(dir IN LISTS dirs)
    file(GLOB_RECURSE found CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/${dir}/*_test.cpp)
    list(APPEND tests ${found})
  endforeach()
  if(NOT tests)
    return()
  endif()
  set(target betsdb_${name}_tests)
  add_executable(${target} ${tests})
  target_link_libraries(${target} PRIVATE betsdb_${name} ${T_LINK}
                        GTest::gtest GTest::gtest_main GTest::gmock)
  target_precompile_headers(${target} REUSE_FROM betsdb_util)
  # Integration tests read BETSDB_TEST_REDIS_URL / BETSDB_TEST_DATABASE_URL, set by scripts/test.
  gtest_discover_tests(${target} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 120)
endfunction()
