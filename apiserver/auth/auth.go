// Package auth hashes passwords with bcrypt and issues and verifies HS256
// JWT access tokens. A *Tokens is safe for concurrent use.
package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/tributary-etl/tributary/apiserver"
)

// DefaultBcryptCost is the work factor of stored password hashes.
const DefaultBcryptCost = 12

// HashPassword returns the bcrypt hash of password at cost. Passwords longer
// than bcrypt's 72 bytes must be refused before calling it.
func HashPassword(password string, cost int) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	return string(h), err
}

// dummyHash is compared against when a login names no user, so a missing
// account takes about as long to refuse as a wrong password.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("no such user, no such password"), DefaultBcryptCost)
	return h
})

// CheckPassword reports whether password matches hash; an empty hash runs a
// comparison anyway and reports false.
func CheckPassword(hash, password string) bool {
	if hash == "" {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// Tokens issues and verifies access tokens.
type Tokens struct {
	secret []byte
	issuer string
	ttl    time.Duration
	now    func() time.Time
}

// NewTokens returns a Tokens signing with secret. now is time.Now outside
// tests.
func NewTokens(secret []byte, issuer string, ttl time.Duration, now func() time.Time) *Tokens {
	return &Tokens{secret: secret, issuer: issuer, ttl: ttl, now: now}
}

// Claims are an access token's claims. The role is informative: the server
// reads the user's current role from the database on every request.
// Password is the PasswordStamp of the user's password hash when the token
// was issued: a new password makes every earlier token invalid.
type Claims struct {
	Role     string `json:"role"`
	Password string `json:"pwd"`
	jwt.RegisteredClaims
}

// PasswordStamp is what a token carries of its user's password hash: 12
// bytes of its SHA-256, base64. Setting a password makes a new bcrypt hash
// (a new salt, even for the same password), so it changes the stamp and
// revokes the tokens issued before. It reveals nothing usable of the hash.
func PasswordStamp(hash string) string {
	sum := sha256.Sum256([]byte(hash))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// Issue returns a signed token for u and its expiry.
func (t *Tokens) Issue(u apiserver.User) (string, time.Time, error) {
	now := t.now()
	exp := now.Add(t.ttl)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, Claims{
		Role:     string(u.Role),
		Password: PasswordStamp(u.PasswordHash),
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   strconv.FormatInt(u.ID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	})
	s, err := tok.SignedString(t.secret)
	return s, exp, err
}

// Verify checks token's signature (HS256 only: "none" and other algorithms
// are refused), issuer and expiry, and returns the user id it names and its
// password stamp, which the caller compares with the user's current one.
// Every failure is a CodeUnauthenticated *apiserver.Error whose message
// says why.
func (t *Tokens) Verify(token string) (id int64, stamp string, err error) {
	var c Claims
	_, err = jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(t.issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(5*time.Second),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil {
		msg := "invalid token"
		switch {
		case errors.Is(err, jwt.ErrTokenExpired):
			msg = "token expired"
		case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
			msg = "token signature invalid or algorithm not allowed"
		case errors.Is(err, jwt.ErrTokenMalformed):
			msg = "token malformed"
		}
		return 0, "", &apiserver.Error{Code: apiserver.CodeUnauthenticated, Message: msg, Err: err}
	}
	id, err = strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || id <= 0 {
		return 0, "", &apiserver.Error{Code: apiserver.CodeUnauthenticated, Message: "invalid token", Err: fmt.Errorf("subject %q", c.Subject)}
	}
	return id, c.Password, nil
}
