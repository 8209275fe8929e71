// Package auth identifies callers: API keys issued by OrthoCDS (stored as
// SHA-256 hashes, never the keys) and bearer tokens from the hospital's
// OpenID Connect identity provider, each mapped to one role (clinician,
// student, evaluator, admin). Endpoints declare the roles they admit; see
// package server.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/orthocds/orthocds"
)

// Roles a key or token may carry.
var Roles = []orthocds.Role{orthocds.RoleClinician, orthocds.RoleStudent, orthocds.RoleInstructor, orthocds.RoleEvaluator, orthocds.RoleAdmin}

// KeyPrefix starts every API key, so that a leaked key is recognisable
// (secret scanners) and never mistaken for a JWT.
const KeyPrefix = "ocds_"

// Key is a stored API key: its hash, never the key itself.
type Key struct {
	ID       string        `json:"id"`
	Name     string        `json:"name"`
	Role     orthocds.Role `json:"role"`
	Hash     string        `json:"sha256"`
	Created  time.Time     `json:"created"`
	Revoked  bool          `json:"revoked,omitempty"`
	LastUsed time.Time     `json:"-"`
}

// KeyStore keeps API keys in a JSON file, rewritten whole (written aside
// and renamed) on every change.
type KeyStore struct {
	path string
	mu   sync.RWMutex
	keys []Key
}

// OpenKeys reads the key file at path; a missing file is an empty store.
func OpenKeys(path string) (*KeyStore, error) {
	s := &KeyStore{path: path}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &s.keys); err != nil {
		return nil, orthocds.Invalid(path, "is not a key file: %v", err)
	}
	return s, nil
}

func hashKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Create issues a key for role and returns the secret, shown once.
func (s *KeyStore) Create(name string, role orthocds.Role) (string, Key, error) {
	if !slices.Contains(Roles, role) {
		return "", Key{}, orthocds.Invalid("role", "must be clinician, student, evaluator or admin")
	}
	if strings.TrimSpace(name) == "" {
		return "", Key{}, orthocds.Invalid("name", "names who or what the key is for")
	}
	var raw [32]byte
	rand.Read(raw[:])
	secret := KeyPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	var id [6]byte
	rand.Read(id[:])
	k := Key{ID: "key-" + hex.EncodeToString(id[:]), Name: name, Role: role, Hash: hashKey(secret), Created: time.Now().UTC()}
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := append(slices.Clone(s.keys), k)
	if err := s.save(keys); err != nil {
		return "", Key{}, err
	}
	s.keys = keys
	return secret, k, nil
}

// Revoke disables a key by ID.
func (s *KeyStore) Revoke(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.keys, func(k Key) bool { return k.ID == id })
	if i < 0 {
		return orthocds.Errorf(orthocds.ENOTFOUND, "no key %q", id)
	}
	keys := slices.Clone(s.keys)
	keys[i].Revoked = true
	if err := s.save(keys); err != nil {
		return err
	}
	s.keys = keys
	return nil
}

// List returns the keys (hashes only).
func (s *KeyStore) List() []Key {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.keys)
}

// Len is the number of keys, revoked ones included.
func (s *KeyStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.keys)
}

// Lookup finds the live key whose hash is the secret's.
func (s *KeyStore) Lookup(secret string) (Key, bool) {
	h := hashKey(secret)
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, k := range s.keys {
		if subtle.ConstantTimeCompare([]byte(k.Hash), []byte(h)) == 1 && !k.Revoked {
			return k, true
		}
	}
	return Key{}, false
}

func (s *KeyStore) save(keys []Key) error {
	b, err := json.MarshalIndent(keys, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(s.path), ".keys-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), s.path)
}

// TokenVerifier verifies identity-provider bearer tokens; *OIDC is one.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (orthocds.Principal, error)
}

// Authenticator identifies a request's caller.
type Authenticator struct {
	Keys *KeyStore
	OIDC TokenVerifier
	// Open admits callers without credentials as admin when no key and no
	// identity provider is configured: a single-user install on loopback.
	Open bool
}

// Authenticate implements server.Authenticator.
func (a *Authenticator) Authenticate(r *http.Request) (orthocds.Principal, error) {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		if xk := r.Header.Get("X-API-Key"); xk != "" {
			token, ok = xk, true
		}
	}
	if !ok || token == "" {
		if a.Open && (a.Keys == nil || a.Keys.Len() == 0) && a.OIDC == nil {
			return orthocds.Principal{ID: "local", Role: orthocds.RoleAdmin}, nil
		}
		return orthocds.Principal{}, orthocds.Errorf(orthocds.EUNAUTHORIZED,
			"credentials required: Authorization: Bearer <API key or identity-provider token>")
	}
	if strings.HasPrefix(token, KeyPrefix) {
		if a.Keys != nil {
			if k, ok := a.Keys.Lookup(token); ok {
				return orthocds.Principal{ID: k.ID, Role: k.Role}, nil
			}
		}
		return orthocds.Principal{}, orthocds.Errorf(orthocds.EUNAUTHORIZED, "unknown or revoked API key")
	}
	if a.OIDC != nil {
		return a.OIDC.Verify(r.Context(), token)
	}
	return orthocds.Principal{}, orthocds.Errorf(orthocds.EUNAUTHORIZED, "no identity provider is configured for bearer tokens")
}
