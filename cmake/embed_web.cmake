# Writes a C++ file that holds every file of the web UI (and the demo
# fixtures) as bytes, with its URL path and content type; see
# src/api/web_assets.hpp. Run as a script (cmake -P) from add_custom_command:
#   -DOUT=<generated .cpp>  -DWEB_DIR=<web/>  [-DFIXTURE_DIR=<data/fixtures/>]
# web/index.html is served as /index.html, web/js/api.js as /js/api.js;
# each FIXTURE_DIR/*.json as /fixtures/<name>.json, listed in a generated
# /fixtures/index.json so the page can offer them.
# Bytes are written as hex arrays, not string literals, so no file content
# (quotes, backslashes, a raw-string delimiter, binary data) can break the build.
cmake_minimum_required(VERSION 3.25)

if(NOT OUT OR NOT WEB_DIR)
  message(FATAL_ERROR "embed_web.cmake needs -DOUT=... and -DWEB_DIR=...")
endif()

function(content_type_of path out)
  string(TOLOWER "${path}" lower)
  if(lower MATCHES "\\.html?$")
    set(type "text/html; charset=utf-8")
  elseif(lower MATCHES "\\.m?js$")
    set(type "text/javascript; charset=utf-8")
  elseif(lower MATCHES "\\.css$")
    set(type "text/css; charset=utf-8")
  elseif(lower MATCHES "\\.json$")
    set(type "application/json")
  elseif(lower MATCHES "\\.webmanifest$")
    set(type "application/manifest+json")
  elseif(lower MATCHES "\\.svg$")
    set(type "image/svg+xml")
  elseif(lower MATCHES "\\.png$")
    set(type "image/png")
  elseif(lower MATCHES "\\.ico$")
    set(type "image/x-icon")
  elseif(lower MATCHES "\\.(txt|md)$")
    set(type "text/plain; charset=utf-8")
  else()
    set(type "application/octet-stream")
  endif()
  set(${out} "${type}" PARENT_SCOPE)
endfunction()

# Appends one asset: a byte array (with a trailing 0 so that an empty file is
# still a legal array; the 0 is not part of the body) and its table row.
set(arrays "")
set(rows "")
set(asset_count 0)
function(add_asset url_path hex)
  math(EXPR n "${asset_count}")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  # 16 bytes a line keeps the generated file readable (CMake's regex has no {n}).
  string(REPEAT "0x..," 16 line_of_bytes)
  string(REGEX REPLACE "(${line_of_bytes})" "\\1\n" bytes "${bytes}")
  content_type_of("${url_path}" type)
  set(arrays "${arrays}// ${url_path}\nconst unsigned char kAsset${n}[] = {\n${bytes}0x00};\n\n" PARENT_SCOPE)
  set(rows "${rows}      {\"${url_path}\", \"${type}\", as_view(kAsset${n}, sizeof kAsset${n} - 1)},\n"
      PARENT_SCOPE)
  math(EXPR next "${asset_count} + 1")
  set(asset_count ${next} PARENT_SCOPE)
endfunction()

function(add_file_asset url_path file)
  file(READ "${file}" hex HEX)
  add_asset("${url_path}" "${hex}")
  set(arrays "${arrays}" PARENT_SCOPE)
  set(rows "${rows}" PARENT_SCOPE)
  set(asset_count ${asset_count} PARENT_SCOPE)
endfunction()

# Skips editor droppings and hidden files, which a URL should never expose.
function(visible_files dir pattern out)
  file(GLOB_RECURSE found RELATIVE "${dir}" "${dir}/${pattern}")
  set(kept "")
  foreach(rel IN LISTS found)
    get_filename_component(name "${rel}" NAME)
    if(name MATCHES "^\\." OR name MATCHES "~$" OR rel MATCHES "(^|/)\\.")
      continue()
    endif()
    if(NOT rel MATCHES "^[A-Za-z0-9._/-]+$")
      message(FATAL_ERROR "web asset '${rel}': use only letters, digits, '.', '_', '-' in names")
    endif()
    list(APPEND kept "${rel}")
  endforeach()
  list(SORT kept)
  set(${out} "${kept}" PARENT_SCOPE)
endfunction()

visible_files("${WEB_DIR}" "*" web_files)
foreach(rel IN LISTS web_files)
  add_file_asset("/${rel}" "${WEB_DIR}/${rel}")
endforeach()

# The fixtures and their manifest: {"fixtures":[{"file","path","name"}]}.
set(manifest "{\"fixtures\":[")
set(separator "")
if(FIXTURE_DIR AND IS_DIRECTORY "${FIXTURE_DIR}")
  visible_files("${FIXTURE_DIR}" "*.json" fixture_files)
  foreach(rel IN LISTS fixture_files)
    if(rel MATCHES "/")
      continue()  # only the folder's own files
    endif()
    file(READ "${FIXTURE_DIR}/${rel}" text)
    string(JSON title ERROR_VARIABLE json_error GET "${text}" name)
    if(json_error)
      set(title "${rel}")
    endif()
    string(REPLACE "\\" "\\\\" title "${title}")
    string(REPLACE "\"" "\\\"" title "${title}")
    string(APPEND manifest
           "${separator}{\"file\":\"${rel}\",\"path\":\"/fixtures/${rel}\",\"name\":\"${title}\"}")
    set(separator ",")
    add_file_asset("/fixtures/${rel}" "${FIXTURE_DIR}/${rel}")
  endforeach()
endif()
string(APPEND manifest "]}\n")
string(HEX "${manifest}" manifest_hex)
add_asset("/fixtures/index.json" "${manifest_hex}")

set(body "// Generated from web/ and data/fixtures/ by cmake/embed_web.cmake. Do not edit.\n")
string(APPEND body "#include <string_view>\n\n#include \"api/web_assets.hpp\"\n\n")
string(APPEND body "namespace betsdb {\n\nnamespace {\n\n")
string(APPEND body "std::string_view as_view(const unsigned char* bytes, std::size_t size) {\n")
string(APPEND body "  return {reinterpret_cast<const char*>(bytes), size};\n}\n\n")
string(APPEND body "${arrays}}  // namespace\n\n")
string(APPEND body "std::span<const WebAsset> embedded_web_assets() {\n")
string(APPEND body "  static const WebAsset all[] = {\n${rows}  };\n  return all;\n}\n\n")
string(APPEND body "}  // namespace betsdb\n")

file(WRITE "${OUT}" "${body}")
