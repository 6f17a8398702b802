"""A TLS server on 127.0.0.1 that takes every protocol version Python's OpenSSL can speak,
TLS 1.0 and 1.1 included (security level 0), for dcr-harness's TLS-policy tests: the server
configured the way RFC 8996 forbids, beside the reference server configured the way it asks.

Usage: python3 tls_server.py CERT KEY   (prints the port, then answers handshakes until killed)
Standard library only."""
import socket
import ssl
import sys
import warnings

warnings.simplefilter("ignore", DeprecationWarning)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.minimum_version = ssl.TLSVersion.TLSv1
context.maximum_version = ssl.TLSVersion.TLSv1_3
context.set_ciphers("ALL:@SECLEVEL=0")
context.load_cert_chain(sys.argv[1], sys.argv[2])
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(16)
print(listener.getsockname()[1], flush=True)
while True:
    connection, _ = listener.accept()
    connection.settimeout(5)
    try:
        context.wrap_socket(connection, server_side=True).close()
    except (ssl.SSLError, OSError):
        connection.close()
