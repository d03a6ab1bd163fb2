# The tests that need nothing but the build: the GoogleTest unit and
# integration tests. Every build with tests has them: the source tree's
# (tests/tests.cmake includes this file) and the package build's
# (dh_auto_test), which for another architecture runs them under qemu-user
# (debian/rules). Listed when CTest runs (PRE_TEST), so that a build for
# another architecture runs none of its programs while it builds.
enable_testing()
find_package(GTest REQUIRED)
include(GoogleTest)
add_library(vgpio_test_support STATIC tests/support/fake_guest.cpp)
target_include_directories(vgpio_test_support PUBLIC tests/support)
target_link_libraries(vgpio_test_support PUBLIC vgpio_driver GTest::gtest)

add_executable(unit_tests
  tests/unit/guest_memory_test.cpp tests/unit/split_queue_test.cpp
  tests/unit/gpio_device_test.cpp tests/unit/gpio_irq_test.cpp tests/unit/config_test.cpp
  tests/unit/chip_monitor_test.cpp tests/unit/stimulus_test.cpp tests/unit/recording_test.cpp
  tests/unit/guest_clock_test.cpp tests/unit/wire_test.cpp tests/unit/device_sim_clock_test.cpp
  tests/unit/sandbox_test.cpp tests/unit/http_guard_test.cpp tests/unit/paths_test.cpp
  tests/unit/restart_test.cpp tests/unit/host_line_errors_test.cpp)
target_link_libraries(unit_tests PRIVATE vgpio_test_support vgpio_config vgpio_sim vgpio_app vgpio_panel
  GTest::gtest_main)
target_compile_definitions(unit_tests PRIVATE VGPIO_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
gtest_discover_tests(unit_tests TEST_PREFIX "unit." DISCOVERY_TIMEOUT 120 DISCOVERY_MODE PRE_TEST)

# Zero heap allocations on the request and interrupt paths. It replaces the
# allocator, which the sanitizers do themselves: plain builds only.
if(NOT VGPIO_SANITIZE)
  add_executable(allocation_tests tests/unit/no_allocation_test.cpp tests/unit/counting_allocator.cpp)
  target_link_libraries(allocation_tests PRIVATE vgpio_test_support vgpio_control vgpio_sim GTest::gtest_main)
  gtest_discover_tests(allocation_tests TEST_PREFIX "unit." DISCOVERY_TIMEOUT 120 DISCOVERY_MODE PRE_TEST)
endif()

add_executable(integration_tests
  tests/integration/handshake_test.cpp tests/integration/interrupt_test.cpp
  tests/integration/lifecycle_test.cpp tests/integration/control_test.cpp tests/integration/fault_test.cpp
  tests/integration/robustness_test.cpp tests/integration/access_test.cpp
  tests/integration/hil_test.cpp tests/integration/panel_test.cpp)
target_link_libraries(integration_tests PRIVATE vgpio_app vgpio_panel vgpio_test_support GTest::gtest_main)
gtest_discover_tests(integration_tests TEST_PREFIX "integration." DISCOVERY_TIMEOUT 120 DISCOVERY_MODE PRE_TEST)

# A scripted driver: drives the daemon in the command-line tests, and runs
# inside the test guests beside gpio-sim (tests/guest; built for Arm, in the
# Arm guest: tests/cross).
add_executable(vgpio-frontend tests/tools/frontend_tool.cpp)
target_link_libraries(vgpio-frontend PRIVATE vgpio_driver)
