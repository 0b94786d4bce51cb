// tls/material: the master's half of TLS configuration. It reads the certificate, key, CA and OCSP
// files as root (before forking, and again on every reload) and checks them with OpenSSL, so that a
// missing file, a bad certificate or a key that does not match is a FILE:LINE error of `bulwark -t`
// and of `-s reload`, never a worker failing later.
#pragma once

#include "config/loader.hpp"

namespace bulwark::tls {

/// `loaded` with config::tls_files filled, or its errors (and a null config) when a file cannot be
/// read or does not make a valid context. Does nothing to a result that already has errors.
config::load_result with_tls_files(config::load_result loaded);

/// Worker: `cfg` with the file bytes the master sent (reload) attached.
config::snapshot attach_files(const config::snapshot& cfg, std::map<std::string, std::string> files);

}  // namespace bulwark::tls
