package httpapi

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/gin-gonic/gin"
)

// ui serves the built single-page UI from dir: a file that exists is sent
// as is; any other GET outside the API answers index.html so that the
// UI's own routes survive a reload. It returns nil when dir holds no
// index.html, and the server then has no UI.
func ui(dir string) gin.HandlerFunc {
	if dir == "" {
		return nil
	}
	index := filepath.Join(dir, "index.html")
	if _, err := os.Stat(index); err != nil {
		return nil
	}
	root := http.Dir(dir)
	files := http.FileServer(root)
	return func(c *gin.Context) {
		p := c.Request.URL.Path
		if (c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead) ||
			strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/artifacts/") {
			c.Next() // not the UI's: the JSON 404 answers
			return
		}
		// http.Dir refuses paths that climb out of dir; path.Clean keeps
		// the lookup on the same path the file server will open.
		if f, err := root.Open(path.Clean(p)); err == nil {
			st, err := f.Stat()
			f.Close()
			if err == nil && !st.IsDir() {
				if strings.HasPrefix(p, "/assets/") { // content-hashed names
					c.Header("Cache-Control", "public, max-age=31536000, immutable")
				}
				files.ServeHTTP(c.Writer, c.Request)
				c.Abort()
				return
			}
		}
		c.Header("Cache-Control", "no-cache")
		c.File(index)
		c.Abort()
	}
}
