package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestAssets(t *testing.T) {
	files := fstest.MapFS{"app.js": {Data: []byte("alert(1)")}, "app.css": {Data: []byte("a{}")}, "dir/x": {Data: []byte("x")}}
	a, err := NewAssets(fs.FS(files), ".")
	if err != nil {
		t.Fatal(err)
	}
	u := a.URL("app.js")
	if !strings.HasPrefix(u, "/assets/app.js?v=") || a.URL("missing.js") != "" || a.URL("dir") != "" {
		t.Errorf("URLs: %q %q", u, a.URL("missing.js"))
	}
	mux := http.NewServeMux()
	a.Mount(mux)
	for path, want := range map[string]int{u: 200, "/assets/app.css": 200, "/assets/missing.js": 404, "/assets/dir/x": 404} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", path, rec.Code, want)
		}
		if want == 200 && (rec.Header().Get("Cache-Control") != "public, max-age=3600" || rec.Header().Get("X-Content-Type-Options") != "nosniff") {
			t.Errorf("%s: headers %v", path, rec.Header())
		}
	}
}
