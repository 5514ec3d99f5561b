# cmake/faultstack_add_test.cmake — faultstack_add_test(): register a CTest test
# that runs a command under faultstack (one run, or a sweep that fails every
# fault point in turn), fails when faultstack finds something, and leaves the
# database and a JUnit report next to the test's output. Comes with
# find_package(faultstack) (faultstackConfig.cmake includes it); in faultstack's
# own tree, include this file (the CLI is the faultstack::cli alias there).
#
#   faultstack_add_test(NAME name COMMAND prog [args...]
#                       [SWEEP] [STRATEGY nth|site|stack] [PROTOCOL spec]...
#                       [FAIL_ON kind[,kind...]] [SUPPRESSIONS file] [TIMEOUT s]
#                       [JOBS n] [WORKING_DIRECTORY dir] [ARGS faultstack-options...]
#                       [DB file] [JUNIT file])
#
#   COMMAND      the program under test and its arguments; a target name as the
#                first word stands for that target's file
#   SWEEP        `faultstack sweep` (every fault point fails once, one run each)
#                instead of one `faultstack run` with nothing failing
#   STRATEGY s   sweep --strategy s (SWEEP only)
#   PROTOCOL spec, repeatable: --protocol spec (your own acquire/release pairs)
#   FAIL_ON list which findings fail the test: sweep --fail-on list (SWEEP only;
#                default leak,anomaly,crash,timeout,memcheck)
#   SUPPRESSIONS file: --suppressions file (accepted findings do not fail the test)
#   TIMEOUT s    seconds per run of the program (--timeout s); CTest's own
#                TIMEOUT property still bounds the whole test
#   JOBS n       sweep -j n (default: faultstack's, the number of CPUs), and the
#                test's PROCESSORS property, so `ctest -j` does not oversubscribe
#   ARGS ...     any other faultstack options, passed as they are
#   DB, JUNIT    where the database and the JUnit report go (default
#                ${CMAKE_CURRENT_BINARY_DIR}/faultstack/<name>.db and <name>.junit.xml)
#
# The test passes when faultstack exits 0 (nothing found, something tested) and
# fails on 1 (findings: their report is printed, see ctest --output-on-failure)
# and on 2 (usage or tool error, or a run that tested nothing). Each run of the
# test starts a new database. The test has the label `faultstack`.
include_guard(GLOBAL)
set(_FAULTSTACK_CTEST_DRIVER "${CMAKE_CURRENT_LIST_DIR}/faultstack_ctest.sh")

function(faultstack_add_test)
  cmake_parse_arguments(PARSE_ARGV 0 FST "SWEEP"
    "NAME;STRATEGY;SUPPRESSIONS;TIMEOUT;JOBS;WORKING_DIRECTORY;DB;JUNIT"
    "COMMAND;PROTOCOL;FAIL_ON;ARGS")
  if(FST_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "faultstack_add_test: unknown arguments '${FST_UNPARSED_ARGUMENTS}' "
                        "(see faultstack_add_test.cmake for the signature)")
  endif()
  if(NOT FST_NAME OR NOT FST_COMMAND)
    message(FATAL_ERROR "faultstack_add_test: NAME and COMMAND are required, e.g. "
                        "faultstack_add_test(NAME mylib.sweep COMMAND mylib_test SWEEP)")
  endif()
  if(NOT FST_SWEEP AND (DEFINED FST_STRATEGY OR DEFINED FST_FAIL_ON OR DEFINED FST_JOBS))
    message(FATAL_ERROR "faultstack_add_test(${FST_NAME}): STRATEGY, FAIL_ON and JOBS are sweep "
                        "options; add SWEEP (faultstack run has none of them)")
  endif()
  if(DEFINED FAULTSTACK_EXECUTABLE)
    set(_fs "${FAULTSTACK_EXECUTABLE}")
  elseif(TARGET faultstack::cli)
    set(_fs "$<TARGET_FILE:faultstack::cli>")
  else()
    message(FATAL_ERROR "faultstack_add_test(${FST_NAME}): no faultstack CLI: call "
                        "find_package(faultstack REQUIRED) first, or set FAULTSTACK_EXECUTABLE")
  endif()

  string(REGEX REPLACE "[^A-Za-z0-9_.+-]" "_" _file "${FST_NAME}")
  if(NOT FST_DB)
    set(FST_DB "${CMAKE_CURRENT_BINARY_DIR}/faultstack/${_file}.db")
  endif()
  if(NOT FST_JUNIT)
    set(FST_JUNIT "${CMAKE_CURRENT_BINARY_DIR}/faultstack/${_file}.junit.xml")
  endif()

  if(FST_SWEEP)
    set(_opts sweep --db "${FST_DB}")
  else()
    set(_opts run --db "${FST_DB}")
  endif()
  if(DEFINED FST_STRATEGY)
    list(APPEND _opts --strategy "${FST_STRATEGY}")
  endif()
  foreach(_p IN LISTS FST_PROTOCOL)
    list(APPEND _opts --protocol "${_p}")
  endforeach()
  if(DEFINED FST_FAIL_ON)
    list(JOIN FST_FAIL_ON "," _fail_on)
    list(APPEND _opts --fail-on "${_fail_on}")
  endif()
  if(DEFINED FST_SUPPRESSIONS)
    get_filename_component(_supp "${FST_SUPPRESSIONS}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND _opts --suppressions "${_supp}")
  endif()
  if(DEFINED FST_TIMEOUT)
    list(APPEND _opts --timeout "${FST_TIMEOUT}")
  endif()
  if(DEFINED FST_JOBS)
    list(APPEND _opts -j "${FST_JOBS}")
  endif()
  list(APPEND _opts ${FST_ARGS})

  list(POP_FRONT FST_COMMAND _prog)
  if(TARGET "${_prog}")
    set(_prog "$<TARGET_FILE:${_prog}>")
  endif()

  set(_wd)
  if(FST_WORKING_DIRECTORY)
    set(_wd WORKING_DIRECTORY "${FST_WORKING_DIRECTORY}")
  endif()
  add_test(NAME "${FST_NAME}"
           COMMAND sh "${_FAULTSTACK_CTEST_DRIVER}" "${_fs}" "${FST_DB}" "${FST_JUNIT}"
                   ${_opts} -- "${_prog}" ${FST_COMMAND}
           ${_wd})
  set_property(TEST "${FST_NAME}" APPEND PROPERTY LABELS faultstack)
  set_property(TEST "${FST_NAME}" PROPERTY ATTACHED_FILES_ON_FAIL "${FST_JUNIT}")
  if(DEFINED FST_JOBS)
    set_property(TEST "${FST_NAME}" PROPERTY PROCESSORS "${FST_JOBS}")
  endif()
endfunction()
