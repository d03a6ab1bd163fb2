// Socket paths shown to users and given to Landlock: the directory resolved,
// the name kept even when the socket does not exist yet.
#include "base/paths.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>

namespace vgpio {
namespace {

std::string cwd() {
  char buf[PATH_MAX];
  return getcwd(buf, sizeof buf) ? buf : "";
}

TEST(Paths, ABareNameLivesInTheWorkingDirectory) {
  EXPECT_EQ(directory_of("vm1.sock"), cwd());
  EXPECT_EQ(absolute_path("vm1.sock"), cwd() + "/vm1.sock");
}

TEST(Paths, TheDirectoryIsResolvedAndTheNameKept) {
  EXPECT_EQ(directory_of("/tmp/../tmp/x.sock"), "/tmp");
  EXPECT_EQ(absolute_path("/tmp/../tmp/x.sock"), "/tmp/x.sock");
  EXPECT_EQ(directory_of("/x.sock"), "/");
  EXPECT_EQ(absolute_path("/x.sock"), "/x.sock");
}

TEST(Paths, AMissingDirectoryIsGivenBackAsItWas) {
  EXPECT_EQ(directory_of("/no/such/dir/x.sock"), "/no/such/dir");
  EXPECT_EQ(absolute_path("gone/x.sock"), "gone/x.sock");
}

}  // namespace
}  // namespace vgpio

namespace vgpio {
namespace {

TEST(Paths, SplitAndJoin) {
  EXPECT_EQ(split_path("vgpio.sock").dir, ".");
  EXPECT_EQ(split_path("vgpio.sock").name, "vgpio.sock");
  EXPECT_EQ(split_path("/x.sock").dir, "/");
  EXPECT_EQ(split_path("/run/vgpio/vm1.sock").dir, "/run/vgpio");
  EXPECT_EQ(split_path("/run/vgpio/vm1.sock").name, "vm1.sock");
  EXPECT_EQ(split_path("/run/vgpio/").name, "");
  EXPECT_EQ(join_path("/", "x.sock"), "/x.sock");
  EXPECT_EQ(join_path("/run/vgpio", "x.sock"), "/run/vgpio/x.sock");
}

}  // namespace
}  // namespace vgpio
