// Package checkpoint anchors the head of the audit trail outside the
// database. A checkpoint says "record Seq of the trail, written at At, had
// hash Hash", and is signed with an Ed25519 key that the database never
// holds. Checkpoints are appended, one JSON object a line, to a file that
// the operator ships with the logs. Whoever can rewrite the database (a
// superuser, someone with its files) can rebuild the hash chain so that it
// holds again, or cut its tail, but cannot sign a checkpoint: Check compares
// the trail with the latest checkpoint and says where and why they differ.
//
// The package holds no SQL and knows nothing of HTTP. Package postgis reads
// the trail's state (Chain); cmd/onemap holds the key and the file.
//
// What a checkpoint does not prove: records written after the latest
// checkpoint are protected only by the chain in the database, so the
// interval between checkpoints is what an attacker with the database's keys
// could rewrite unseen.
package checkpoint

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"
)

// Point is one record of the audit trail: its number, when it was written
// and its hash (SHA-256 over the previous hash and its own fields).
type Point struct {
	Seq  int64
	At   time.Time
	Hash []byte
}

// Checkpoint is a signed statement of the trail's head at Time.
type Checkpoint struct {
	Seq  int64     `json:"seq"`  // the last record at Time (0: the trail was empty)
	Hash HexBytes  `json:"hash"` // its hash
	At   time.Time `json:"at"`   // when that record was written
	Time time.Time `json:"time"` // when the checkpoint was signed
	Key  string    `json:"key"`  // the signing key's ID (KeyID)
	Sig  []byte    `json:"sig"`  // Ed25519 over message(), base64 in JSON
}

// HexBytes is a hash, written in JSON as lower-case hex.
type HexBytes []byte

// MarshalText writes hex.
func (h HexBytes) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h)), nil }

// UnmarshalText reads hex.
func (h *HexBytes) UnmarshalText(b []byte) error {
	v, err := hex.DecodeString(string(b))
	if err != nil {
		return fmt.Errorf("hash %q: not hex", b)
	}
	*h = v
	return nil
}

// message is what a checkpoint's signature covers: every field but the
// signature, in a fixed text form (times as Unix microseconds, the
// precision of the database).
func (c *Checkpoint) message() []byte {
	return fmt.Appendf(nil, "onemap audit checkpoint v1\nseq %d\nhash %x\nat %d\ntime %d\nkey %s\n",
		c.Seq, []byte(c.Hash), c.At.UnixMicro(), c.Time.UnixMicro(), c.Key)
}

// Key signs checkpoints (with its private half) and checks them (with its
// public half). A Key loaded from a public key file only checks.
type Key struct {
	priv ed25519.PrivateKey // nil for a public key alone
	pub  ed25519.PublicKey
}

// ID names the key in checkpoints: the first 8 bytes of SHA-256 over the
// public key, in hex.
func (k *Key) ID() string {
	sum := sha256.Sum256(k.pub)
	return hex.EncodeToString(sum[:8])
}

// CanSign reports whether the key holds its private half.
func (k *Key) CanSign() bool { return k.priv != nil }

// PEM block types of key files (PKCS #8 and PKIX, as openssl writes them).
const (
	privateBlock = "PRIVATE KEY"
	publicBlock  = "PUBLIC KEY"
)

// GenerateKey makes a new key and writes its private half to path (which
// must not exist; mode 0600) and its public half to path+".pub". It returns
// the key.
func GenerateKey(path string) (*Key, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	if err := writeNew(path, pem.EncodeToMemory(&pem.Block{Type: privateBlock, Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := writeNew(path+".pub", pem.EncodeToMemory(&pem.Block{Type: publicBlock, Bytes: pubDER}), 0o644); err != nil {
		return nil, err
	}
	return &Key{priv: priv, pub: pub}, nil
}

// writeNew writes a file that must not exist yet.
func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("checkpoint: key file: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("checkpoint: key file %s: %w", path, err)
	}
	return f.Close()
}

// LoadKey reads a key file that GenerateKey wrote: the private key (which
// signs and checks) or the public key (which only checks).
func LoadKey(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("checkpoint: key %s: not a PEM file", path)
	}
	switch block.Type {
	case privateBlock:
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if priv, ok := k.(ed25519.PrivateKey); err == nil && ok {
			return &Key{priv: priv, pub: priv.Public().(ed25519.PublicKey)}, nil
		}
	case publicBlock:
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if pub, ok := k.(ed25519.PublicKey); err == nil && ok {
			return &Key{pub: pub}, nil
		}
	}
	return nil, fmt.Errorf("checkpoint: key %s: want an Ed25519 %s or %s (onemap audit keygen)", path, privateBlock, publicBlock)
}

// Sign makes the checkpoint of head at now.
func (k *Key) Sign(head Point, now time.Time) (Checkpoint, error) {
	if k.priv == nil {
		return Checkpoint{}, errors.New("checkpoint: this key is a public key: it cannot sign")
	}
	c := Checkpoint{Seq: head.Seq, Hash: HexBytes(bytes.Clone(head.Hash)), At: head.At.UTC(), Time: now.UTC(), Key: k.ID()}
	c.Sig = ed25519.Sign(k.priv, c.message())
	return c, nil
}

// Verify checks a checkpoint's signature with the key.
func (k *Key) Verify(c Checkpoint) error {
	if c.Key != k.ID() {
		return fmt.Errorf("the checkpoint of %s is signed by key %q, not by the configured key %s", c.Time.Format(time.RFC3339), c.Key, k.ID())
	}
	if !ed25519.Verify(k.pub, c.message(), c.Sig) {
		return fmt.Errorf("the signature of the checkpoint of %s does not hold: the checkpoint was altered", c.Time.Format(time.RFC3339))
	}
	return nil
}
