package transport

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Authentication at Hello (see doc.go, Conversation): when a side has a
// cluster token (Options.Token), both prove they know it without sending
// it. Each side sends a fresh random nonce in its Hello; the server's
// Hello carries serverProof, and the client answers with a second Hello
// carrying clientProof; the server acknowledges (Ack) or refuses (Error,
// CodeRefused). A proof is an HMAC-SHA256 keyed by the token over a label
// and both nonces, so it cannot be replayed on another connection, and
// the labels differ so that one side's proof is never the other's.

// nonceSize is the size of a Hello nonce.
const nonceSize = 32

var (
	// ErrNoToken says the peer has no cluster token while this side has
	// one; ErrBadToken that it proved a different one.
	ErrNoToken  = errors.New("the other side has no cluster token")
	ErrBadToken = errors.New("the other side has a different cluster token")
)

// newNonce returns a fresh random nonce.
func newNonce() []byte {
	n := make([]byte, nonceSize)
	if _, err := rand.Read(n); err != nil {
		panic(fmt.Sprintf("transport: no randomness: %v", err)) // crypto/rand does not fail on supported systems
	}
	return n
}

func proof(token []byte, label string, first, second []byte) []byte {
	m := hmac.New(sha256.New, token)
	m.Write([]byte(label))
	m.Write(first)
	m.Write(second)
	return m.Sum(nil)
}

// serverProof is what the server proves with: over the client's nonce,
// then its own.
func serverProof(token, clientNonce, serverNonce []byte) []byte {
	return proof(token, "rayflow server proof v1", clientNonce, serverNonce)
}

// clientProof is what the client proves with: over the server's nonce,
// then its own.
func clientProof(token, serverNonce, clientNonce []byte) []byte {
	return proof(token, "rayflow client proof v1", serverNonce, clientNonce)
}

// checkProof compares a received proof with the expected one in constant
// time; an empty proof means the peer has no token.
func checkProof(got, want []byte) error {
	if len(got) == 0 {
		return ErrNoToken
	}
	if !hmac.Equal(got, want) {
		return ErrBadToken
	}
	return nil
}
