// tls/pem: the OpenSSL steps both context builders (server_context, upstream_context) take on PEM
// bytes the master read: a memory BIO, the last error's reason, and CA certificates into a store.
// Control plane only.
#pragma once

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <string>

namespace bulwark::tls {

/// The reason of OpenSSL's last error ("unknown error" when none); clears the error queue.
std::string openssl_reason();

/// A read-only memory BIO over `bytes`, freed on scope exit.
struct bio_ptr {
    BIO* b;
    explicit bio_ptr(const std::string& bytes) : b(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size()))) {}
    ~bio_ptr() { BIO_free(b); }
    bio_ptr(const bio_ptr&) = delete;
    bio_ptr& operator=(const bio_ptr&) = delete;
};

/// Adds every PEM certificate of `pem` to `store` (and, when `names` is given, its subject to that
/// list, for the CA names a server sends); returns how many.
int add_ca_certificates(X509_STORE* store, const std::string& pem, STACK_OF(X509_NAME)* names = nullptr);

}  // namespace bulwark::tls
