// The single translation unit that defines the Boost.Test module (and its main) for build/unit_tests.
#define BOOST_TEST_MODULE bulwark_unit
#include <boost/test/unit_test.hpp>
