/* A self-signed ECDSA P-256 certificate (CN=localhost, SAN DNS:localhost,
 * valid 2026-11-26..2126-11-02) and its key, for the scripted server of
 * test_tls13_refuse.c. Test-only material, generated with openssl. */
#ifndef TLS13_FAKECERT_H
#define TLS13_FAKECERT_H
static const char fake_cert_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIB3jCCAYOgAwIBAgIUR582EodEx+fpWpwH0/4e3dGroegwCgYIKoZIzj0EAwIw\n"
	"LzESMBAGA1UEAwwJbG9jYWxob3N0MRkwFwYDVQQKDBBudHNraXQgdW5pdCB0ZXN0\n"
	"MCAXDTI2MTEyNjA2NDkxMFoYDzIxMjYxMTAyMDY0OTEwWjAvMRIwEAYDVQQDDAls\n"
	"b2NhbGhvc3QxGTAXBgNVBAoMEG50c2tpdCB1bml0IHRlc3QwWTATBgcqhkjOPQIB\n"
	"BggqhkjOPQMBBwNCAASCy+HNrnjGguPTiMMrw+mJuFVOXdbuAeCEdYyyF3qZNw3k\n"
	"WJhuRmoPQVcxYeDtLjdkGZXi4PzSTTdHr4027Epwo3sweTAdBgNVHQ4EFgQUd5J1\n"
	"qY7wFRs9YYpI9iByEsykq9YwHwYDVR0jBBgwFoAUd5J1qY7wFRs9YYpI9iByEsyk\n"
	"q9YwFAYDVR0RBA0wC4IJbG9jYWxob3N0MAwGA1UdEwEB/wQCMAAwEwYDVR0lBAww\n"
	"CgYIKwYBBQUHAwEwCgYIKoZIzj0EAwIDSQAwRgIhAIFnJ4jDQ1NRUl6NIXaEivUG\n"
	"7+NlQhDRoG1ED0RtMhwBAiEArCw3DsyCyXI8RJs4tY47KPOwk3eYUZJ9MtrybiDd\n"
	"bZ4=\n"
	"-----END CERTIFICATE-----\n";
static const char fake_key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgCNjDruRUFOauHvRX\n"
	"mp9ThyuI12zEWDMrcPz76zkCmQKhRANCAASCy+HNrnjGguPTiMMrw+mJuFVOXdbu\n"
	"AeCEdYyyF3qZNw3kWJhuRmoPQVcxYeDtLjdkGZXi4PzSTTdHr4027Epw\n"
	"-----END PRIVATE KEY-----\n";
#endif
