package api

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3.1 document of the API, written by hand and
// held to the code by openapi_test.go.
//
//go:embed openapi.json
var openAPI []byte

// handleOpenAPI serves the OpenAPI document. It needs no token: it tells
// what the API takes and answers, which docs/api.md tells anyone too, and
// tools (code generators, API explorers) fetch it without credentials.
func (a *API) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPI)
	return nil
}
