#include "client/vcd_writer.h"

#include <cassert>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <numeric>

namespace vgpio::client {

namespace {

constexpr uint64_t kSecond = 1'000'000'000;

bool is_power_of_ten(uint64_t v) {
  while (v >= 10 && v % 10 == 0) v /= 10;
  return v == 1;
}

}  // namespace

// IEEE 1364-2005 §18.2.3.6: the unit is 1, 10 or 100 of s, ms, us, ns (or finer).
std::string timescale_text(uint64_t unit_ns) {
  const char* names[] = {"ns", "us", "ms", "s"};
  size_t i = 0;
  while (i < 3 && unit_ns >= 1000) unit_ns /= 1000, ++i;
  return std::to_string(unit_ns) + " " + names[i];
}

Result<Timescale> Timescale::parse(const std::string& text) {
  if (text == "auto") return Timescale{};
  for (uint64_t unit = 1; unit <= kSecond; unit *= 10) {
    std::string t = timescale_text(unit);
    t.erase(t.find(' '), 1);
    if (t == text) return Timescale{unit};
  }
  return Error("not a VCD time unit: \"" + text + "\" (use auto, or 1, 10 or 100 of ns, us, ms, or 1s)");
}

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
  signals_.push_back({safe, identifier(signals_.size()), initial, initial});
  return signals_.size() - 1;
}

Result<void> VcdWriter::begin(const std::string& comment, uint64_t precision_ns) {
  step_ = scale_.unit_ns ? scale_.unit_ns : precision_ns;
  assert(is_power_of_ten(step_) && step_ <= kSecond);
  comment_ = comment;
  changes_.reset(std::tmpfile());
  if (!changes_) return Error(std::string("cannot make a temporary file for the changes: ") + std::strerror(errno));
  return {};
}

uint64_t VcdWriter::round(uint64_t time_ns) const { return (time_ns + step_ / 2) / step_ * step_; }

void VcdWriter::change(uint64_t time_ns, size_t signal, char value) {
  Signal& s = signals_.at(signal);
  if (s.value == value) return;
  s.value = value;
  uint64_t rounded = round(time_ns);
  if (scale_.unit_ns && rounded != time_ns) ++inexact_;
  uint64_t at = std::max(rounded, time_);
  time_ = at;
  gcd_ = std::gcd(gcd_, at);
  ++count_;
  Change c{at, uint32_t(signal), value};
  if (changes_) std::fwrite(&c, sizeof c, 1, changes_.get());
}

Result<VcdWriter::Summary> VcdWriter::finish(uint64_t time_ns) {
  assert(changes_);
  uint64_t unit = scale_.unit_ns;
  if (unit == 0) {
    // The coarsest power of ten that divides every time: each is a multiple
    // of the step, so the step itself always does.
    unit = step_;
    while (unit < kSecond && gcd_ % (unit * 10) == 0) unit *= 10;
  }
  out_ << "$comment\n  " << comment_ << "\n$end\n";
  out_ << "$timescale " << timescale_text(unit) << " $end\n$scope module vgpio $end\n";
  for (const auto& s : signals_) out_ << "$var wire 1 " << s.id << " " << s.name << " $end\n";
  out_ << "$upscope $end\n$enddefinitions $end\n#0\n$dumpvars\n";
  for (const auto& s : signals_) out_ << s.initial << s.id << "\n";
  out_ << "$end\n";

  std::FILE* f = changes_.get();
  if (std::fflush(f) != 0 || std::fseek(f, 0, SEEK_SET) != 0)
    return Error(std::string("cannot read back the recorded changes: ") + std::strerror(errno));
  uint64_t written = 0;
  Change c;
  for (size_t i = 0; i < count_; ++i) {
    if (std::fread(&c, sizeof c, 1, f) != 1)
      return Error("the temporary file lost recorded changes (" + std::to_string(count_ - i) + " of " +
                   std::to_string(count_) + " missing)");
    if (c.time > written) {
      written = c.time;
      out_ << "#" << c.time / unit << "\n";
    }
    out_ << c.value << signals_.at(c.signal).id << "\n";
  }
  // A timestamp after the last change, even at the same time.
  out_ << "#" << std::max((time_ns + unit - 1) / unit, written / unit + 1) << "\n";
  out_.flush();
  changes_.reset();
  if (!out_) return Error("cannot write the file");
  return Summary{unit, count_, inexact_};
}

}  // namespace vgpio::client
