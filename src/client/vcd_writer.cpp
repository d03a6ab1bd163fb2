#include "client/vcd_writer.h"

#include <cctype>

namespace vgpio::client {

std::string VcdWriter::identifier(size_t index) {
  // Identifier codes are printable ASCII, '!' (33) to '~' (126): base 94.
  std::string id;
  do {
    id += static_cast<char>('!' + index % 94);
    index /= 94;
  } while (index > 0);
  return id;
}

size_t VcdWriter::add_signal(const std::string& name, char initial) {
  std::string safe = name.empty() ? std::string(1, '_') : name;
  for (char& c : safe) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '.' && c != '_' && c != '-' && c != ':') c = '_';
  }
  signals_.push_back({safe, identifier(signals_.size()), initial});
  return signals_.size() - 1;
}

void VcdWriter::begin(const std::string& comment) {
  out_ << "$comment\n  " << comment << "\n$end\n";
  out_ << "$timescale 1 ns $end\n$scope module vgpio $end\n";
  for (const auto& s : signals_) out_ << "$var wire 1 " << s.id << " " << s.name << " $end\n";
  out_ << "$upscope $end\n$enddefinitions $end\n#0\n$dumpvars\n";
  for (const auto& s : signals_) out_ << s.value << s.id << "\n";
  out_ << "$end\n";
}

void VcdWriter::stamp(uint64_t time_ns) {
  if (time_ns > time_) {
    time_ = time_ns;
    out_ << "#" << time_ << "\n";
  }
}

void VcdWriter::change(uint64_t time_ns, size_t signal, char value) {
  Signal& s = signals_.at(signal);
  if (s.value == value) return;
  s.value = value;
  stamp(time_ns);
  out_ << value << s.id << "\n";
}

void VcdWriter::finish(uint64_t time_ns) {
  // A timestamp after the last change, even at the same time.
  out_ << "#" << std::max(time_ns, time_ + 1) << "\n";
  out_.flush();
}

}  // namespace vgpio::client
