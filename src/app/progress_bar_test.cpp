#include "app/progress_bar.hpp"

#include <gtest/gtest.h>

namespace betsdb::app {
namespace {

TEST(ProgressBar, DrawsTheShareDoneAsABarPercentAndCount) {
  EXPECT_EQ(ProgressBar::render("importing", 0, 380),
            "importing [..............................] 0% 0/380");
  EXPECT_EQ(ProgressBar::render("importing", 190, 380),
            "importing [###############...............] 50% 190/380");
  EXPECT_EQ(ProgressBar::render("importing", 380, 380),
            "importing [##############################] 100% 380/380");
  EXPECT_EQ(ProgressBar::render("importing", 0, 0),
            "importing [##############################] 100% 0/0");
}

}  // namespace
}  // namespace betsdb::app
