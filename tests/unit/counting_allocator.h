// Counts heap allocations made by this thread while a CountAllocations is in
// scope. The test binary that includes counting_allocator.cpp replaces
// malloc and operator new, so every allocation is seen, the C library's and
// the standard library's included. Not for sanitizer builds: they replace
// the allocator themselves.
#pragma once

namespace vgpio::testing {

class CountAllocations {
 public:
  CountAllocations();
  ~CountAllocations();
  CountAllocations(const CountAllocations&) = delete;
  CountAllocations& operator=(const CountAllocations&) = delete;
  long count() const;
};

}  // namespace vgpio::testing
