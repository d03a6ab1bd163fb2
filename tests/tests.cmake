# The tests, included from the top CMakeLists.txt. A kind of test that needs
# something the build does not install (the tests' own packages,
# tests/packages.txt) is added only when that is here; otherwise CMake says
# which tests it skips and what they lack. scripts/setup.sh test installs all
# and sets VGPIO_ALL_TESTS, so that there a missing package fails the configure.
option(VGPIO_ALL_TESTS "every test must be added: a missing package is an error" OFF)
enable_testing()

function(vgpio_tests_skip what reason)
  if(VGPIO_ALL_TESTS)
    message(FATAL_ERROR "${what}: ${reason} (VGPIO_ALL_TESTS is on; is it missing from tests/packages.txt?)")
  endif()
  message(STATUS "Skipping ${what}: ${reason}")
endfunction()

# vgpio_tests_need(OUT WHAT NEED...): OUT is true when every NEED is here: a
# program on PATH, an absolute file name, or python3:MODULE (a module Debian's
# python3 imports).
# vgpio_python_tests(OUT SCRIPT [PLATFORM]): the scenario names SCRIPT's own
# registry lists (SCRIPT --list [PLATFORM]). A scenario is written once, in
# Python; a change to the script configures again.
function(vgpio_python_tests out script)
  execute_process(COMMAND /usr/bin/python3 ${script} --list ${ARGN} OUTPUT_VARIABLE names RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "${script} --list ${ARGN} failed (${failed})")
  endif()
  string(REPLACE "\n" ";" names "${names}")
  list(REMOVE_ITEM names "")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${script})
  set(${out} ${names} PARENT_SCOPE)
endfunction()

function(vgpio_tests_need out what)
  foreach(need ${ARGN})
    if(need MATCHES "^python3:(.*)")
      set(found FALSE)
      if(DEBIAN_PYTHON)
        execute_process(COMMAND ${DEBIAN_PYTHON} -c "import ${CMAKE_MATCH_1}" RESULT_VARIABLE failed
          OUTPUT_QUIET ERROR_QUIET)
        if(NOT failed)
          set(found TRUE)
        endif()
      endif()
    elseif(need MATCHES "^/")
      set(found FALSE)
      if(EXISTS "${need}")
        set(found TRUE)
      endif()
    else()
      string(MAKE_C_IDENTIFIER "VGPIO_PROGRAM_${need}" var)
      find_program(${var} ${need})
      set(found "${${var}}")
    endif()
    if(NOT found)
      vgpio_tests_skip("${what}" "no ${need} here (scripts/setup.sh test installs it)")
      set(${out} FALSE PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out} TRUE PARENT_SCOPE)
endfunction()

# Debian's own python3, for the modules Debian's packages install (pytest,
# matplotlib), whatever other python3 comes first on PATH.
find_program(DEBIAN_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH)

# ---- the unit and integration tests (GoogleTest) ----
find_package(GTest)
if(GTest_FOUND)
  include(tests/built_tests.cmake)
else()
  vgpio_tests_skip("the unit and integration tests" "no GoogleTest here (libgtest-dev, libgmock-dev)")
endif()

# ---- vgpio as a user runs it ----
# A stand-in for systemd's fd store and restarts, where there is no systemd
# (the test guest; tests/tools/fd_store_tool.cpp says what it does).
add_executable(vgpio-fdstore tests/tools/fd_store_tool.cpp)
# Samples line levels at a fixed rate (the systemd guest's restart tests).
add_executable(vgpio-sampler tests/tools/sampler_tool.cpp)
# Hands the service's fd store what its name does not say (the systemd guest's tests).
add_executable(vgpio-fdpush tests/tools/fd_push_tool.cpp)
target_link_libraries(vgpio-fdpush PRIVATE vgpio_service)

vgpio_tests_need(have cli.client_apart nm)
if(have)
  add_test(NAME cli.client_apart COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/client_apart.sh ${CMAKE_SOURCE_DIR}
    $<TARGET_FILE:vgpio-panel>)
endif()
add_test(NAME cli.protocol_reference COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/protocol_reference.sh
  $<TARGET_FILE:vgpio> ${CMAKE_SOURCE_DIR}/docs/control.md)
add_test(NAME cli.serve_probe_ctl COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/serve_probe_ctl.sh $<TARGET_FILE:vgpio>
  $<TARGET_FILE:vgpio-frontend>)
vgpio_tests_need(have cli.hil_ctl sigrok-cli vcd2fst fst2vcd /usr/bin/python3)
if(have)
  add_test(NAME cli.hil_ctl COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/hil_ctl.sh $<TARGET_FILE:vgpio>
    $<TARGET_FILE:vgpio-frontend>)
  set_tests_properties(cli.hil_ctl PROPERTIES TIMEOUT 300)
endif()

# The Python test client (python/), with Debian's pytest and the daemon built here.
vgpio_tests_need(have python.client python3:pytest)
if(have)
  add_test(NAME python.client COMMAND ${DEBIAN_PYTHON} -m pytest -q -p no:cacheprovider
    ${CMAKE_SOURCE_DIR}/python/tests --vgpio-bin $<TARGET_FILE:vgpio>)
  set_tests_properties(python.client PROPERTIES TIMEOUT 300 ENVIRONMENT
    "PYTHONPATH=${CMAKE_SOURCE_DIR}/python;PYTHONDONTWRITEBYTECODE=1")
endif()

# docs/perf's charts are what bench/charts.py draws from the committed bench JSON (bench/results).
vgpio_tests_need(have bench.charts python3:matplotlib)
if(have)
  add_test(NAME bench.charts COMMAND ${DEBIAN_PYTHON} ${CMAKE_SOURCE_DIR}/bench/charts.py --check
    ${CMAKE_SOURCE_DIR}/bench/results/side_by_side.json ${CMAKE_SOURCE_DIR}/docs/perf)
endif()

# Shellcheck and pyflakes on the tree's scripts and Python; clang-format on
# the C++, clang-tidy on src/ with this build's compile commands (scripts/lint.sh).
vgpio_tests_need(have lint.scripts_and_python shellcheck git python3:pyflakes)
if(have)
  add_test(NAME lint.scripts_and_python COMMAND ${CMAKE_SOURCE_DIR}/scripts/lint.sh scripts)
endif()
vgpio_tests_need(have lint.cpp clang-format clang-tidy run-clang-tidy git)
if(have)
  add_test(NAME lint.cpp COMMAND ${CMAKE_SOURCE_DIR}/scripts/lint.sh cpp ${CMAKE_BINARY_DIR})
  # run-clang-tidy runs two at a time; minutes on a loaded 2-core machine.
  set_tests_properties(lint.cpp PROPERTIES PROCESSORS 2 TIMEOUT 1800)
endif()

# ---- vgpio under a service manager, and as a Debian package ----
vgpio_tests_need(have "the service tests" /usr/bin/python3 systemd-socket-activate systemd-analyze strace pgrep setpriv)
if(have)
  vgpio_python_tests(service_scenarios ${CMAKE_SOURCE_DIR}/tests/service/service_tests.py)
  foreach(name ${service_scenarios})
    add_test(NAME service.${name} COMMAND python3 ${CMAKE_SOURCE_DIR}/tests/service/service_tests.py ${name})
    set_tests_properties(service.${name} PROPERTIES TIMEOUT 300 ENVIRONMENT
      "VGPIO_BIN=$<TARGET_FILE:vgpio>;VGPIO_FRONTEND=$<TARGET_FILE:vgpio-frontend>;VGPIO_FDSTORE=$<TARGET_FILE:vgpio-fdstore>")
  endforeach()
endif()

# The units, man pages and libvirt example; the Debian package, built and installed.
vgpio_tests_need(have packaging.units systemd-analyze mandoc groff virt-xml-validate xmllint)
if(have)
  add_test(NAME packaging.units COMMAND ${CMAKE_SOURCE_DIR}/tests/packaging/units_test.sh ${CMAKE_SOURCE_DIR}
    ${CMAKE_BINARY_DIR})
endif()
vgpio_tests_need(have packaging.deb dpkg-buildpackage dh lintian systemd-analyze man)
if(have)
  add_test(NAME packaging.deb COMMAND ${CMAKE_SOURCE_DIR}/tests/packaging/package_test.sh ${CMAKE_SOURCE_DIR}
    ${CMAKE_BINARY_DIR}/deb)
  set_tests_properties(packaging.deb PROPERTIES TIMEOUT 1800 RESOURCE_LOCK apt COST 1000  # the longest: start it first
    FIXTURES_SETUP vgpio_deb)
endif()

# python3-vgpio in a new Debian 12 root, its fixtures under the system's pytest.
vgpio_tests_need(have packaging.python mmdebstrap)
if(have AND TEST packaging.deb)
  add_test(NAME packaging.python COMMAND ${CMAKE_SOURCE_DIR}/tests/packaging/python_package_test.sh
    ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/deb)
  set_tests_properties(packaging.python PROPERTIES TIMEOUT 1200 FIXTURES_REQUIRED vgpio_deb)
endif()

# The package for each other architecture (tests/cross/architectures.txt):
# cross-built as Debian builds it, its unit and integration tests run under
# qemu-user; it leaves its files and its scripted driver for tests/cross.
file(STRINGS ${CMAKE_SOURCE_DIR}/tests/cross/architectures.txt VGPIO_CROSS_ARCHITECTURES REGEX "^[a-z0-9]+$")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/cross/architectures.txt)
set(cross_ready "")
foreach(arch ${VGPIO_CROSS_ARCHITECTURES})
  foreach(variable triplet:DEB_HOST_MULTIARCH cpu:DEB_HOST_GNU_CPU)
    string(REPLACE ":" ";" variable ${variable})
    list(GET variable 0 name)
    list(GET variable 1 query)
    execute_process(COMMAND dpkg-architecture -a ${arch} -q ${query} OUTPUT_VARIABLE ${name}
      OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  endforeach()
  vgpio_tests_need(have packaging.deb.${arch} dpkg-buildpackage lintian ${triplet}-g++ qemu-${cpu}
    /usr/lib/${triplet}/pkgconfig/libgpiodcxx.pc /usr/lib/${triplet}/libgtest.a)
  if(have)
    add_test(NAME packaging.deb.${arch} COMMAND ${CMAKE_SOURCE_DIR}/tests/packaging/package_test.sh ${CMAKE_SOURCE_DIR}
      ${CMAKE_BINARY_DIR}/deb-${arch} ${arch})
    set_tests_properties(packaging.deb.${arch} PROPERTIES TIMEOUT 3600 COST 900 FIXTURES_SETUP vgpio_deb_${arch})
    set(cross_qemu_${arch} qemu-${cpu})
    list(APPEND cross_ready ${arch})
  endif()
endforeach()

# The panel in Debian's chromium, driven by puppeteer-core (scripts/setup.sh
# test runs npm ci in tests/browser first).
vgpio_tests_need(have browser.panel node chromium setpriv /usr/bin/python3)
if(have)
  add_test(NAME browser.panel COMMAND node ${CMAKE_SOURCE_DIR}/tests/browser/panel_test.mjs)
  set_tests_properties(browser.panel PROPERTIES TIMEOUT 600 ENVIRONMENT
    "VGPIO_BIN=$<TARGET_FILE:vgpio>;VGPIO_PANEL_BIN=$<TARGET_FILE:vgpio-panel>;VGPIO_ARTIFACTS=${CMAKE_BINARY_DIR}/artifacts")
endif()

# ---- real guests: QEMU + the Linux gpio-virtio driver + libgpiod tools ----
vgpio_tests_need(have "the guest tests" /usr/bin/python3 qemu-system-x86_64 qemu-system-aarch64
  /usr/src/linux-source-6.12.tar.xz make flex bison bc aarch64-linux-gnu-gcc busybox cpio gpiodetect)
if(NOT have)
  return()
endif()
set(TESTVM_DIR ${CMAKE_BINARY_DIR}/testvm)
set(clock_plugin "")
set(other_qemu_plugin "")
if(TARGET vgpio-clock)
  set(clock_plugin $<TARGET_FILE:vgpio-clock>)
  set(other_qemu_plugin $<TARGET_FILE:vgpio-clock-other-qemu>)
endif()
add_test(NAME guest.prepare COMMAND ${CMAKE_SOURCE_DIR}/testvm/prepare.sh ${TESTVM_DIR} $<TARGET_FILE:vgpio>
  $<TARGET_FILE:vgpio-frontend> $<TARGET_FILE:vgpio-fdstore>)
# Second to start (after packaging.deb), before the packages for other
# architectures: on a new machine it builds both guest kernels, which every
# guest test waits for.
set_tests_properties(guest.prepare PROPERTIES FIXTURES_SETUP guestvm TIMEOUT 3000 ENVIRONMENT VGPIO_TESTVM_ARM64=1
  COST 950)
# The same scenarios on each platform (testvm/guestkit.py): x86_64 q35 over
# PCI as guest.NAME, x86_64 microvm and arm64 virt over virtio-mmio as
# guest.PLATFORM.NAME (QEMU's default legacy virtio-mmio; arm64_modern is
# arm64 virt over virtio-mmio version 2). Which scenario runs where is said in
# guest_tests.py (@test(only_on=...)).
foreach(platform q35 microvm arm64 arm64_modern)
  vgpio_python_tests(scenarios ${CMAKE_SOURCE_DIR}/tests/guest/guest_tests.py ${platform})
  set(qemu72 ${TESTVM_DIR}/qemu72/qemu-system-x86_64)
  if(platform STREQUAL "q35")
    set(prefix guest)
  else()
    set(prefix guest.${platform})
  endif()
  if(platform STREQUAL "arm64")
    set(qemu72 ${TESTVM_DIR}/qemu72-aarch64/qemu-system-aarch64)
  endif()
  foreach(name ${scenarios})
    if(name MATCHES "^guest_clock" AND NOT TARGET vgpio-clock)
      vgpio_tests_skip(${prefix}.${name} "no vgpio-clock QEMU plugin (scripts/qemu-plugin-api.sh fetches its header)")
      continue()
    endif()
    add_test(NAME ${prefix}.${name} COMMAND python3 ${CMAKE_SOURCE_DIR}/tests/guest/guest_tests.py ${name})
    set_tests_properties(${prefix}.${name} PROPERTIES FIXTURES_REQUIRED guestvm TIMEOUT 900 ENVIRONMENT
      "VGPIO_PLATFORM=${platform};VGPIO_BIN=$<TARGET_FILE:vgpio>;VGPIO_FDSTORE=$<TARGET_FILE:vgpio-fdstore>;VGPIO_KERNEL=${TESTVM_DIR}/bzImage;VGPIO_INITRD=${TESTVM_DIR}/initramfs.cpio.gz;VGPIO_KERNEL_ARM64=${TESTVM_DIR}/Image;VGPIO_INITRD_ARM64=${TESTVM_DIR}/initramfs-arm64.cpio.gz;VGPIO_QEMU72=${qemu72};VGPIO_PANEL_BIN=$<TARGET_FILE:vgpio-panel>;VGPIO_CLOCK_PLUGIN=${clock_plugin};VGPIO_CLOCK_PLUGIN_OTHER_QEMU=${other_qemu_plugin}")
  endforeach()
endforeach()

# vgpio built for each other architecture (packaging.deb.ARCH): under
# qemu-user it serves the x86_64 guest (the scenarios guest_tests.py marks
# cross), and it runs in the arm64 guest, on an Arm kernel's gpio-sim chips,
# in its own sandbox (tests/cross/arm_guest.sh).
vgpio_python_tests(cross_scenarios ${CMAKE_SOURCE_DIR}/tests/guest/guest_tests.py cross)
foreach(arch ${cross_ready})
  foreach(name ${cross_scenarios})
    add_test(NAME guest.cross.${arch}.${name} COMMAND python3 ${CMAKE_SOURCE_DIR}/tests/guest/guest_tests.py ${name})
    set_tests_properties(guest.cross.${arch}.${name} PROPERTIES FIXTURES_REQUIRED "guestvm;vgpio_deb_${arch}"
      TIMEOUT 900 ENVIRONMENT
      "VGPIO_PLATFORM=q35;VGPIO_BIN=${CMAKE_BINARY_DIR}/deb-${arch}/root/usr/bin/vgpio;VGPIO_QEMU_USER=${cross_qemu_${arch}};VGPIO_KERNEL=${TESTVM_DIR}/bzImage;VGPIO_INITRD=${TESTVM_DIR}/initramfs.cpio.gz")
  endforeach()
  # Installed by apt in a Debian 12 root of that architecture (qemu-user
  # through binfmt_misc), and run there.
  execute_process(COMMAND dpkg-architecture -a ${arch} -q DEB_HOST_GNU_CPU OUTPUT_VARIABLE cpu
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  vgpio_tests_need(have packaging.deb.${arch}.installed mmdebstrap arch-test /usr/lib/binfmt.d/qemu-${cpu}.conf
    /usr/lib/systemd/systemd-binfmt)
  if(have)
    add_test(NAME packaging.deb.${arch}.installed COMMAND ${CMAKE_SOURCE_DIR}/tests/cross/install_test.sh
      ${CMAKE_SOURCE_DIR} ${arch} ${CMAKE_BINARY_DIR}/deb-${arch})
    set_tests_properties(packaging.deb.${arch}.installed PROPERTIES FIXTURES_REQUIRED vgpio_deb_${arch} TIMEOUT 2400)
  endif()
  foreach(name aggregate_and_policy held_outputs)
    add_test(NAME guest.cross.${arch}.on_arm.${name} COMMAND ${CMAKE_SOURCE_DIR}/tests/cross/arm_guest.sh ${arch}
      ${CMAKE_BINARY_DIR}/deb-${arch} ${TESTVM_DIR} ${name})
    set_tests_properties(guest.cross.${arch}.on_arm.${name} PROPERTIES FIXTURES_REQUIRED "guestvm;vgpio_deb_${arch}"
      TIMEOUT 900)
  endforeach()
endforeach()

# "Test your firmware": examples/firmware's pytest file against a real guest
# running blinky.sh, both ways. On its guest's time (the vgpio-clock plugin)
# timing is asserted exactly, whatever the load; on the host's clock the
# guest is emulated (TCG) beside other tests, so there only order and counts
# are asserted (VGPIO_FIRMWARE_TIMING=0).
vgpio_tests_need(have guest.firmware python3:pytest)
if(have)
  add_test(NAME guest.firmware COMMAND ${DEBIAN_PYTHON} -m pytest -q -p no:cacheprovider
    ${CMAKE_SOURCE_DIR}/examples/firmware --vgpio-bin $<TARGET_FILE:vgpio>)
  set_tests_properties(guest.firmware PROPERTIES FIXTURES_REQUIRED guestvm TIMEOUT 900 ENVIRONMENT
    "VGPIO_FIRMWARE_TIMING=0;VGPIO_CLOCK_PLUGIN=${clock_plugin};PYTHONPATH=${CMAKE_SOURCE_DIR}/python;PYTHONDONTWRITEBYTECODE=1;VGPIO_ARTIFACTS=${CMAKE_BINARY_DIR}/artifacts;VGPIO_KERNEL=${TESTVM_DIR}/bzImage;VGPIO_INITRD=${TESTVM_DIR}/initramfs.cpio.gz")
endif()

# Host lines against gpio-sim chips, with vgpio running inside the test guest.
vgpio_python_tests(host_line_scenarios ${CMAKE_SOURCE_DIR}/tests/guest/host_line_tests.py)
foreach(name ${host_line_scenarios})
  add_test(NAME guest.host_lines.${name} COMMAND python3 ${CMAKE_SOURCE_DIR}/tests/guest/host_line_tests.py ${name})
  set_tests_properties(guest.host_lines.${name} PROPERTIES FIXTURES_REQUIRED guestvm TIMEOUT 900 ENVIRONMENT
    "VGPIO_KERNEL=${TESTVM_DIR}/bzImage;VGPIO_INITRD=${TESTVM_DIR}/initramfs.cpio.gz")
endforeach()

# The service under a real systemd: Debian 12 with systemd 252 as PID 1 in a
# guest, the package that packaging.deb built installed there with apt.
vgpio_tests_need(have "the systemd guest tests" mmdebstrap dpkg-deb)
if(have AND TEST packaging.deb)
  set(SYSTEMD_VM_DIR ${CMAKE_BINARY_DIR}/systemd-vm)
  add_test(NAME systemd.prepare COMMAND ${CMAKE_SOURCE_DIR}/testvm/prepare-systemd.sh ${SYSTEMD_VM_DIR}
    ${CMAKE_BINARY_DIR}/deb $<TARGET_FILE:vgpio-frontend> $<TARGET_FILE:vgpio-sampler> $<TARGET_FILE:vgpio-fdpush>)
  set_tests_properties(systemd.prepare PROPERTIES FIXTURES_SETUP systemdvm FIXTURES_REQUIRED "guestvm;vgpio_deb"
    TIMEOUT 1800)
  # Restarts are 2.5 s apart (systemd's start limit): 10 of each kind here,
  # the 100 of each that docs/restarts.md quotes: VGPIO_SYSTEMD_RESTARTS=100 ctest -R systemd.restarts
  vgpio_python_tests(systemd_scenarios ${CMAKE_SOURCE_DIR}/tests/systemd/systemd_tests.py)
  foreach(name ${systemd_scenarios})
    add_test(NAME systemd.${name} COMMAND python3 ${CMAKE_SOURCE_DIR}/tests/systemd/systemd_tests.py ${name})
    set_tests_properties(systemd.${name} PROPERTIES FIXTURES_REQUIRED systemdvm TIMEOUT 3600 ENVIRONMENT
      "VGPIO_KERNEL=${SYSTEMD_VM_DIR}/bzImage;VGPIO_SYSTEMD_ROOT=${SYSTEMD_VM_DIR}/systemd-root.cpio;VGPIO_SYSTEMD_TEST_RESTARTS=10")
  endforeach()
endif()
