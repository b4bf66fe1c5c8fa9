package slack

import (
	"testing"
	"time"
)

// TestCache keeps an answer for its lifetime, not longer, and starts
// over rather than grow past maxCached.
func TestCache(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	c := newCache[string](time.Minute)
	c.now = func() time.Time { return now }
	if _, ok := c.get("U1"); ok {
		t.Fatal("an empty cache answered")
	}
	c.put("U1", "pat")
	now = now.Add(59 * time.Second)
	if v, ok := c.get("U1"); !ok || v != "pat" {
		t.Errorf("within its lifetime: %q, %v", v, ok)
	}
	now = now.Add(time.Second)
	if _, ok := c.get("U1"); ok {
		t.Error("an answer a minute old was still given")
	}
	for i := range maxCached + 1 {
		c.put(string(rune('a'+i%26))+time.Duration(i).String(), "x")
	}
	if n := len(c.m); n > maxCached {
		t.Errorf("%d answers kept, more than %d", n, maxCached)
	}
}
