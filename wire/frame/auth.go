package frame

import (
	"crypto/hmac"
	"crypto/sha256"
)

// authContext is the domain-separation prefix of the Auth MAC.
const authContext = "sluice-tcp-auth-v1\n"

// AuthMAC is the MAC an Auth frame carries: HMAC-SHA256 keyed with the
// secret access key over "sluice-tcp-auth-v1\n" || nonce || access key id
// (PROTOCOL.md section 4).
func AuthMAC(secret string, nonce [NonceSize]byte, accessKeyID string) [MACSize]byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(authContext))
	m.Write(nonce[:])
	m.Write([]byte(accessKeyID))
	var out [MACSize]byte
	m.Sum(out[:0])
	return out
}

// CheckAuthMAC reports in constant time whether mac is the MAC of secret.
func CheckAuthMAC(secret string, nonce [NonceSize]byte, accessKeyID string, mac [MACSize]byte) bool {
	want := AuthMAC(secret, nonce, accessKeyID)
	return hmac.Equal(want[:], mac[:])
}

// CodeOf maps a header or body decoding error of this package to its code.
func CodeOf(err error) Code {
	switch {
	case err == nil:
		return CodeOK
	case isErr(err, ErrTooLarge):
		return CodeFrameTooLarge
	case isErr(err, ErrHeaderChecksum), isErr(err, ErrBodyChecksum):
		return CodeChecksum
	default:
		return CodeMalformed
	}
}
