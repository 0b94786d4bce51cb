// cache/tls_cache: the cache behind a TLS listener, with real curl: https keys (purge by https URL),
// HSTS and the cache status on hits as on misses.
#include <boost/test/unit_test.hpp>

#include "cache/cache_fixture.hpp"
#include "tls/tls_fixture.hpp"

using namespace bulwark::test;
using namespace bulwark::test::cache;
using bulwark::test::tls::curl;
using bulwark::test::tls::has;

BOOST_AUTO_TEST_SUITE(cache_tls)

BOOST_AUTO_TEST_CASE(hits_over_https_carry_hsts_and_purge_takes_the_https_url) {
    origin o("a");
    bulwark_process bw;
    config_options opt = bulwark::test::tls::tls_options(o.address());
    opt.listener_extra += "hsts = max-age=600\n";
    opt.tail += cache_sections(bw.file("cache.bin"), "cache_valid = 200 1m\n");
    bw.start(opt);
    auto miss = curl(bw.port(), "/size/2000");
    BOOST_TEST(has(miss.out, "X-Cache: MISS"), miss.out);
    auto hit = curl(bw.port(), "/size/2000");
    BOOST_TEST(has(hit.out, "X-Cache: HIT"), hit.out);
    BOOST_TEST(has(hit.out, "Strict-Transport-Security: max-age=600"), hit.out);
    BOOST_TEST(o.requests_to("/size/2000") == 1u);
    auto purge = bw.run({"-c", bw.config_path(), "-s", "purge", "https://a.test/size/2000"});
    BOOST_TEST(purge.exit_code == 0, purge.out << purge.err);
    auto again = curl(bw.port(), "/size/2000");
    BOOST_TEST(has(again.out, "X-Cache: MISS"), again.out);
    BOOST_TEST(o.requests_to("/size/2000") == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
