// tls/pem: see pem.hpp.
#include "tls/pem.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace bulwark::tls {

std::string openssl_reason() {
    unsigned long e = ERR_peek_last_error();
    const char* r = e ? ERR_reason_error_string(e) : nullptr;
    ERR_clear_error();
    return r ? r : e ? "error" : "unknown error";
}

int add_ca_certificates(X509_STORE* store, const std::string& pem, STACK_OF(X509_NAME)* names) {
    bio_ptr b(pem);
    int n = 0;
    while (X509* x = PEM_read_bio_X509(b.b, nullptr, nullptr, nullptr)) {
        X509_STORE_add_cert(store, x);
        if (names) sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(x)));
        X509_free(x);
        ++n;
    }
    ERR_clear_error();  // the end of the PEM reads as an error
    return n;
}

}  // namespace bulwark::tls
