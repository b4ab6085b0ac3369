// Package demo sets up Tributary's demo through its REST API, as a user's
// script would: the local Kafka cluster, the functions of functions/ built
// and registered, the demo pipeline saved and deployed. cmd/demo runs it at
// the end of `make up`; the end-to-end test runs a private copy.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"time"
)

// Client calls the API with a token.
type Client struct {
	Base  string // e.g. http://127.0.0.1:8080
	Token string
	HTTP  *http.Client
}

// APIError is a refusal of the API.
type APIError struct {
	Status int
	Body   string
}

func (e *APIError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body) }

// Login returns a client holding an access token for email.
func Login(ctx context.Context, base, email, password string) (*Client, error) {
	c := &Client{Base: base, HTTP: &http.Client{Timeout: 5 * time.Minute}}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := c.Do(ctx, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password}, &out); err != nil {
		return nil, fmt.Errorf("log in as %s: %w", email, err)
	}
	c.Token = out.AccessToken
	return c, nil
}

// Do sends body as JSON (nil: none) and decodes a 2xx answer into out
// (nil: discarded).
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	return c.send(ctx, method, path, r, "application/json", out)
}

func (c *Client) send(ctx context.Context, method, path string, body io.Reader, contentType string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &APIError{resp.StatusCode, string(b)}
	}
	if out != nil && len(b) > 0 {
		return json.Unmarshal(b, out)
	}
	return nil
}

// Upload registers a function as name and version: a binary, or Python
// code, which the server tells by filename (.py) and content (.tar.gz).
func (c *Client) Upload(ctx context.Context, name, version, filename string, file io.Reader, describe []byte) error {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("name", name)
		mw.WriteField("version", version)
		if describe != nil {
			mw.WriteField("describe", string(describe))
		}
		fw, err := mw.CreateFormFile("file", filename)
		if err == nil {
			_, err = io.Copy(fw, file)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	return c.send(ctx, "POST", "/api/v1/functions", pr, mw.FormDataContentType(), nil)
}

// registeredWithoutFile reports whether name and version are registered
// but the server cannot serve their binary.
func (c *Client) registeredWithoutFile(ctx context.Context, name, version string) bool {
	var versions []struct {
		Version string `json:"version"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/functions/"+name, nil, &versions); err != nil {
		return false
	}
	for _, v := range versions {
		if v.Version == version {
			req, err := http.NewRequestWithContext(ctx, http.MethodHead, c.Base+"/artifacts/"+name+"/"+version, nil)
			if err != nil {
				return false
			}
			resp, err := c.HTTP.Do(req)
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode != http.StatusOK
		}
	}
	return false
}
