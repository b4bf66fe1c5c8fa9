package discord

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"
)

// maxBody bounds an interaction request; real ones are a few kilobytes.
const maxBody = 64 << 10

// serveInteraction receives interactions at POST /discord/interactions,
// the application's Interactions Endpoint URL. The request is authenticated
// before anything in it is read: the Ed25519 signature over timestamp and
// body (discordgo.VerifyInteraction), then the timestamp's age. Discord
// sends requests with bad signatures on purpose and removes an endpoint
// that accepts them, so every failure is a 401. Valid interactions are
// answered in the response body, like those from the gateway.
func (a *Adapter) serveInteraction(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		httpError(w, http.StatusRequestEntityTooLarge, "request body too large")
		return
	case err != nil:
		httpError(w, http.StatusBadRequest, "cannot read the request body")
		return
	}
	if reason := a.authenticate(r, body); reason != "" {
		a.log.Info("refused an interaction request", "reason", reason, "remote", r.RemoteAddr)
		httpError(w, http.StatusUnauthorized, "invalid request signature")
		return
	}
	i, err := parseInteraction(body, a.appID)
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.interact(r.Context(), i, func(resp *discordgo.InteractionResponse) error {
		b, err := json.Marshal(resp)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/json")
		_, err = w.Write(b)
		return err
	})
}

// authenticate checks a request's signature and age; it returns why it
// refuses, or "".
func (a *Adapter) authenticate(r *http.Request, body []byte) string {
	if a.key == nil {
		return "no public key is configured"
	}
	// VerifyInteraction reads the body from the request.
	r.Body = io.NopCloser(bytes.NewReader(body))
	if !discordgo.VerifyInteraction(r, a.key) {
		return "bad signature"
	}
	sec, err := strconv.ParseInt(r.Header.Get("X-Signature-Timestamp"), 10, 64)
	if err != nil {
		return "malformed timestamp"
	}
	age := a.now().Sub(time.Unix(sec, 0))
	if age > MaxSignatureAge || age < -MaxSignatureAge {
		return "timestamp outside the accepted window"
	}
	return ""
}

// httpError answers a refused request with a short JSON explanation.
func httpError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
}
