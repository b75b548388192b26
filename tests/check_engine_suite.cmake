# Fails when a test case that runs the engine is not in the doctest suite "engine" (the cases ctest
# re-runs with the instruction set forced down). Run by ctest as engine_suite:
#   cmake -DTESTS=<xunit-tests> -DSOURCE_DIR=<tests dir> -P check_engine_suite.cmake
#
# The rule, read from the sources: a TEST_CASE whose body compiles, plans or runs a model (the calls
# in `runs`) must be declared in the suite, either between TEST_SUITE_BEGIN("engine") and
# TEST_SUITE_END() or with `* doctest::test_suite("engine")`. The binary's own listing of the suite
# must then hold exactly those cases (a misspelt suite name or a lost decorator shows up here).
cmake_minimum_required(VERSION 3.25)

set(runs "run_engine\\(|run_image\\(|make_plan\\(|load_graph\\(|choose_geometry\\(|CompiledModel|xunit_run\\(|xunit_model_load|restore\\(")
# Not checked: test_cli.cpp, whose cases run the tools as processes (one loads a model only to read its
# metadata): the forced-ISA entries re-run the engine in-process, not the tools.
set(exempt test_cli.cpp)

file(GLOB sources ${SOURCE_DIR}/test_*.cpp)
set(errors "")
set(expected 0)
foreach(src IN LISTS sources)
  get_filename_component(file ${src} NAME)
  file(READ ${src} rest)
  set(prefix "")
  while(TRUE)
    string(FIND "${rest}" "\nTEST_CASE(" at)
    if(at EQUAL -1)
      break()
    endif()
    math(EXPR at "${at} + 1")
    string(SUBSTRING "${rest}" 0 ${at} before)
    string(APPEND prefix "${before}")
    string(SUBSTRING "${rest}" ${at} -1 rest)
    # This case: up to the next one.
    string(SUBSTRING "${rest}" 1 -1 after)
    string(FIND "${after}" "\nTEST_CASE(" next)
    if(next EQUAL -1)
      set(body "${rest}")
    else()
      math(EXPR next "${next} + 1")
      string(SUBSTRING "${rest}" 0 ${next} body)
    endif()
    string(FIND "${body}" ") {" open)
    string(SUBSTRING "${body}" 0 ${open} head)
    string(REGEX MATCH "\"([^\"]*)\"" name "${head}")
    # In the suite: a decorator, or the last TEST_SUITE_BEGIN/END before it opened the suite.
    set(member FALSE)
    if(head MATCHES "test_suite\\(\"engine\"\\)")
      set(member TRUE)
    endif()
    string(FIND "${prefix}" "TEST_SUITE_BEGIN(\"engine\")" begin REVERSE)
    string(FIND "${prefix}" "TEST_SUITE_END(" end REVERSE)
    if(begin GREATER end)
      set(member TRUE)
    endif()
    if(member)
      math(EXPR expected "${expected} + 1")
    endif()
    if(body MATCHES "${runs}" AND NOT member AND NOT file IN_LIST exempt)
      string(APPEND errors "  ${file}: ${name} runs the engine (it calls ${CMAKE_MATCH_0}...)\n")
    endif()
  endwhile()
endforeach()

execute_process(COMMAND ${TESTS} -ts=engine --list-test-cases -r=xml OUTPUT_VARIABLE listing
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${TESTS} --list-test-cases failed (${rc})")
endif()
string(REGEX MATCHALL "<TestCase " listed "${listing}")
list(LENGTH listed listed)
if(NOT listed EQUAL expected)
  string(APPEND errors "  the sources put ${expected} cases in the suite, the binary lists ${listed}\n")
endif()
if(expected EQUAL 0)
  string(APPEND errors "  no case is in the engine suite\n")
endif()
if(errors)
  message(FATAL_ERROR "Test cases that run the engine belong in the doctest suite \"engine\" "
                      "(TEST_SUITE_BEGIN(\"engine\") or * doctest::test_suite(\"engine\")):\n${errors}")
endif()
message(STATUS "engine suite: ${listed} test cases")
