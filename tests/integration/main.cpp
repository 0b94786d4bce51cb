// integration: the Boost.Test module that runs the real binary ($BULWARK_BIN) against real origins.
#define BOOST_TEST_MODULE bulwark_integration
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include "harness/bulwark_process.hpp"

namespace {

struct suite_setup {
    suite_setup() {
        BOOST_TEST_MESSAGE("bulwark binary: " << bulwark::test::bulwark_bin());
        if (!bulwark::test::file_exists(bulwark::test::bulwark_bin()))
            BOOST_TEST_MESSAGE("warning: the binary does not exist; set BULWARK_BIN");
    }
};

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(suite_setup);
