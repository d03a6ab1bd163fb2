// libFuzzer: the config file parser and the --line form.
#include <string>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)vgpio::config::parse(text, "fuzz.toml");
  (void)vgpio::config::parse_line_option(text);
  (void)vgpio::config::parse_duration(text);
  return 0;
}
