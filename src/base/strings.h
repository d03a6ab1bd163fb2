// printf-style formatting into std::string (g++ 12 has no <format>).
#pragma once

#include <string>

namespace vgpio {

std::string strfmt(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace vgpio
