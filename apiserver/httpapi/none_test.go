package httpapi

import (
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tributary-etl/tributary/apiserver/auth"
)

// unsignedToken is an admin token with alg "none".
func unsignedToken(t *testing.T, issuer string) string {
	t.Helper()
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, auth.Claims{Role: "admin", RegisteredClaims: jwt.RegisteredClaims{
		Issuer: issuer, Subject: strconv.Itoa(1), IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	}})
	s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
