package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
)

// Assets are a surface's scripts and stylesheets, compiled into the
// binary and served under /assets/. Each has a URL with a hash of its
// content in the query, so that a new release is never served a cached
// file of the old one.
type Assets struct {
	files fs.FS
	urls  map[string]string // file name → URL with a content version
}

// NewAssets returns the files at the top of directory dir of fsys (a
// surface's embedded assets directory).
func NewAssets(fsys fs.FS, dir string) (*Assets, error) {
	files, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("assets: %w", err)
	}
	a := &Assets{files: files, urls: map[string]string{}}
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, fmt.Errorf("assets: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := fs.ReadFile(files, e.Name())
		if err != nil {
			return nil, fmt.Errorf("assets: %w", err)
		}
		sum := sha256.Sum256(b)
		a.urls[e.Name()] = "/assets/" + url.PathEscape(e.Name()) + "?v=" + hex.EncodeToString(sum[:5])
	}
	return a, nil
}

// URL returns the versioned URL of the file name, or "" when there is no
// such file.
func (a *Assets) URL(name string) string { return a.urls[name] }

// Mount serves each file at GET /assets/<name>, with or without the
// version in the query.
func (a *Assets) Mount(mux Mux) {
	for name := range a.urls {
		mux.Handle("GET /assets/"+name, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "public, max-age=3600")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			http.ServeFileFS(w, r, a.files, name)
		}))
	}
}
