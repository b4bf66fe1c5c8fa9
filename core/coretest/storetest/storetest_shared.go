package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

// The contract of the state that every replica shares besides the domain
// (core/shared.go): keys, sign-ins, memos and locks. What two replicas
// see of it is tested against the stores that replicas share; here, what
// one sees.

func testKeyMadeOnce(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	cur, prev, err := f.st.Key(ctx, "cookies", 32)
	if err != nil {
		t.Fatalf("Key(new): %v", err)
	}
	if len(cur) != 32 || prev != nil {
		t.Fatalf("Key(new) = %d bytes, previous %x; want 32 bytes and no previous", len(cur), prev)
	}
	if bytes.Equal(cur, make([]byte, 32)) {
		t.Errorf("Key(new) is all zeroes")
	}
	// What was signed with the key yesterday still verifies today.
	again, prev, err := f.st.Key(ctx, "cookies", 32)
	if err != nil || !bytes.Equal(again, cur) || prev != nil {
		t.Errorf("Key again = %x, previous %x, %v; want the key made first and no previous", again, prev, err)
	}
	// The size makes a key; a key made stays as it is.
	if longer, _, err := f.st.Key(ctx, "cookies", 64); err != nil || !bytes.Equal(longer, cur) {
		t.Errorf("Key(64 bytes) of a key made with 32 = %d bytes, %v; want the key made", len(longer), err)
	}
	other, _, err := f.st.Key(ctx, "links", 48)
	if err != nil || len(other) != 48 || bytes.Equal(other[:32], cur) {
		t.Errorf("Key(another name) = %d bytes, %v; want a key of its own, of 48 bytes", len(other), err)
	}
	// A caller that wipes its copy wipes nothing stored.
	clear(cur)
	if stored, _, err := f.st.Key(ctx, "cookies", 32); err != nil || !bytes.Equal(stored, again) {
		t.Errorf("Key after the caller cleared its copy = %x, %v; want the key unchanged", stored, err)
	}
}

func testRotateKey(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	first, _, err := f.st.Key(ctx, "cookies", 32)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.RotateKey(ctx, "cookies", 32); err != nil {
		t.Fatalf("RotateKey: %v", err)
	}
	second, prev, err := f.st.Key(ctx, "cookies", 32)
	if err != nil || len(second) != 32 || bytes.Equal(second, first) || !bytes.Equal(prev, first) {
		t.Fatalf("Key after RotateKey = %x, previous %x, %v; want a new key, and %x as previous", second, prev, err, first)
	}
	// What was signed before the last rotation verifies; before the one
	// ahead of it, no more.
	if err := f.st.RotateKey(ctx, "cookies", 64); err != nil {
		t.Fatalf("second RotateKey: %v", err)
	}
	third, prev, err := f.st.Key(ctx, "cookies", 32)
	if err != nil || len(third) != 64 || bytes.Equal(third[:32], second) || !bytes.Equal(prev, second) {
		t.Errorf("Key after a second RotateKey = %x, previous %x, %v; want a new key of 64 bytes, and %x as previous", third, prev, err, second)
	}
	// Rotating a key nobody asked for yet makes one.
	if err := f.st.RotateKey(ctx, "links", 32); err != nil {
		t.Fatalf("RotateKey(new): %v", err)
	}
	if cur, prev, err := f.st.Key(ctx, "links", 32); err != nil || len(cur) != 32 || prev != nil {
		t.Errorf("Key after RotateKey(new) = %d bytes, previous %x, %v; want 32 bytes and no previous", len(cur), prev, err)
	}
}

func testKeyInvalid(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	for _, c := range []struct {
		name string
		size int
	}{{"", 32}, {"short", 0}, {"short", 15}, {"long", 1025}, {"negative", -32}} {
		_, _, err := f.st.Key(ctx, c.name, c.size)
		wantCode(t, "Key("+c.name+")", err, core.CodeInvalid)
		wantCode(t, "RotateKey("+c.name+")", f.st.RotateKey(ctx, c.name, c.size), core.CodeInvalid)
	}
	// The limits are inclusive.
	for _, size := range []int{16, 1024} {
		name := fmt.Sprintf("edge-%d", size)
		if cur, _, err := f.st.Key(ctx, name, size); err != nil || len(cur) != size {
			t.Errorf("Key(%d bytes) = %d bytes, %v", size, len(cur), err)
		}
		if err := f.st.RotateKey(ctx, name, size); err != nil {
			t.Errorf("RotateKey(%d bytes): %v", size, err)
		}
	}
}

// testConcurrentKey asks for one new key from many goroutines at once:
// all of them sign with the same key.
func testConcurrentKey(t *testing.T, f *storeFixture) {
	const callers = 16
	keys := make([][]byte, callers)
	errs := make([]error, callers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			<-start
			keys[i], _, errs[i] = f.st.Key(t.Context(), "race", 32)
		})
	}
	close(start)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || !bytes.Equal(keys[i], keys[0]) || len(keys[i]) != 32 {
			t.Errorf("caller %d: Key = %x, %v; want %x like caller 0", i, keys[i], errs[i], keys[0])
		}
	}
}

// newSignIn returns a sign-in of agent that expires at expires.
func newSignIn(agent string, expires time.Time) *core.SignIn {
	_, hash := core.NewSecret()
	return &core.SignIn{TokenHash: hash, Agent: agent, CreatedAt: expires.Add(-8 * time.Hour), ExpiresAt: expires}
}

func (f *storeFixture) signIn(agent string, expires time.Time) *core.SignIn {
	f.t.Helper()
	s := newSignIn(agent, expires)
	if err := f.st.CreateSignIn(f.t.Context(), s); err != nil {
		f.t.Fatalf("CreateSignIn: %v", err)
	}
	return s
}

func testSignInRoundTrip(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	s := f.signIn("ada@example.test", At(8*time.Hour))
	want := *s
	got, err := f.st.FindSignIn(ctx, s.TokenHash, s.CreatedAt)
	if err != nil {
		t.Fatalf("FindSignIn: %v", err)
	}
	wantSame(t, "sign-in", &want, got)
	wantUTC(t, "sign-in", got.CreatedAt, got.ExpiresAt)
	if _, err := f.st.FindSignIn(ctx, s.TokenHash, s.ExpiresAt.Add(-time.Microsecond)); err != nil {
		t.Errorf("FindSignIn just before it expires: %v", err)
	}
	_, err = f.st.FindSignIn(ctx, s.TokenHash, s.ExpiresAt)
	wantCode(t, "FindSignIn when it expires", err, core.CodeNotFound)
	_, h := core.NewSecret()
	_, err = f.st.FindSignIn(ctx, h, s.CreatedAt)
	wantCode(t, "FindSignIn(unknown)", err, core.CodeNotFound)
}

// testSignOut: signing out ends the sign-in at once, long before it would
// have expired, and only that one: the agent's other browser stays signed
// in.
func testSignOut(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	now := At(time.Hour)
	laptop := f.signIn("ada@example.test", At(8*time.Hour))
	phone := f.signIn("ada@example.test", At(8*time.Hour))
	if err := f.st.EndSignIn(ctx, laptop.TokenHash); err != nil {
		t.Fatalf("EndSignIn: %v", err)
	}
	_, err := f.st.FindSignIn(ctx, laptop.TokenHash, now)
	wantCode(t, "FindSignIn after EndSignIn", err, core.CodeNotFound)
	if got, err := f.st.FindSignIn(ctx, phone.TokenHash, now); err != nil || got.Agent != phone.Agent {
		t.Errorf("FindSignIn of the agent's other sign-in = %+v, %v", got, err)
	}
	if err := f.st.EndSignIn(ctx, laptop.TokenHash); err != nil {
		t.Errorf("EndSignIn again: %v", err)
	}
	_, h := core.NewSecret()
	if err := f.st.EndSignIn(ctx, h); err != nil {
		t.Errorf("EndSignIn(unknown): %v", err)
	}
}

func testSignInRefused(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	s := f.signIn("ada@example.test", At(8*time.Hour))
	dup := *s
	dup.Agent = "mallory@example.test"
	wantCode(t, "CreateSignIn(same token)", f.st.CreateSignIn(ctx, &dup), core.CodeConflict)
	if got, err := f.st.FindSignIn(ctx, s.TokenHash, s.CreatedAt); err != nil || got.Agent != s.Agent {
		t.Errorf("FindSignIn after a refused duplicate = %+v, %v; want %s's", got, err, s.Agent)
	}
	noHash := newSignIn("ada@example.test", At(8*time.Hour))
	noHash.TokenHash = ""
	noEnd := newSignIn("ada@example.test", time.Time{})
	for name, s := range map[string]*core.SignIn{"nil": nil, "no token hash": noHash, "no expiry": noEnd} {
		wantCode(t, "CreateSignIn("+name+")", f.st.CreateSignIn(ctx, s), core.CodeInvalid)
	}
	_, err := f.st.FindSignIn(ctx, noEnd.TokenHash, Epoch())
	wantCode(t, "FindSignIn of a refused sign-in", err, core.CodeNotFound)
}

func testExpireSignIns(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	now := At(24 * time.Hour)
	var expired, live []*core.SignIn
	for i := range 5 {
		expired = append(expired, f.signIn("ada@example.test", now.Add(-time.Duration(i+1)*time.Minute)))
	}
	expired = append(expired, f.signIn("bob@example.test", now.Add(-time.Microsecond)))
	for i := range 3 {
		live = append(live, f.signIn("ada@example.test", now.Add(time.Duration(i+1)*time.Minute)))
	}
	n, err := f.st.ExpireSignIns(ctx, now)
	if err != nil || n != len(expired) {
		t.Fatalf("ExpireSignIns = %d, %v; want %d", n, err, len(expired))
	}
	for _, s := range expired {
		// Deleted, not merely hidden: looked for at a time it was live.
		_, err := f.st.FindSignIn(ctx, s.TokenHash, s.CreatedAt)
		wantCode(t, "FindSignIn of an expired sign-in after ExpireSignIns", err, core.CodeNotFound)
	}
	for _, s := range live {
		if _, err := f.st.FindSignIn(ctx, s.TokenHash, now); err != nil {
			t.Errorf("FindSignIn of a live sign-in after ExpireSignIns: %v", err)
		}
	}
	if n, err := f.st.ExpireSignIns(ctx, now); err != nil || n != 0 {
		t.Errorf("ExpireSignIns again = %d, %v; want 0", n, err)
	}
}

func testMemo(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	until := At(15 * time.Minute)
	const key = "discord:interaction:1234567890"
	if err := f.st.PutMemo(ctx, key, "token-1 ✓", until); err != nil {
		t.Fatalf("PutMemo: %v", err)
	}
	if v, err := f.st.FindMemo(ctx, key, until.Add(-time.Microsecond)); err != nil || v != "token-1 ✓" {
		t.Errorf("FindMemo just before it expires = %q, %v; want %q", v, err, "token-1 ✓")
	}
	_, err := f.st.FindMemo(ctx, key, until)
	wantCode(t, "FindMemo when it expires", err, core.CodeNotFound)
	_, err = f.st.FindMemo(ctx, "discord:interaction:other", Epoch())
	wantCode(t, "FindMemo(unknown)", err, core.CodeNotFound)

	// A new interaction replaces the token and its expiry.
	later := until.Add(15 * time.Minute)
	if err := f.st.PutMemo(ctx, key, "token-2", later); err != nil {
		t.Fatalf("PutMemo again: %v", err)
	}
	if v, err := f.st.FindMemo(ctx, key, until); err != nil || v != "token-2" {
		t.Errorf("FindMemo after PutMemo replaced it = %q, %v; want %q", v, err, "token-2")
	}
	// Replacing it with an earlier expiry shortens its life.
	if err := f.st.PutMemo(ctx, key, "", until); err != nil {
		t.Fatalf("PutMemo(empty value): %v", err)
	}
	if v, err := f.st.FindMemo(ctx, key, Epoch()); err != nil || v != "" {
		t.Errorf("FindMemo of an empty value = %q, %v", v, err)
	}
	_, err = f.st.FindMemo(ctx, key, until)
	wantCode(t, "FindMemo after PutMemo shortened it", err, core.CodeNotFound)

	wantCode(t, "PutMemo(no key)", f.st.PutMemo(ctx, "", "v", until), core.CodeInvalid)
	wantCode(t, "PutMemo(no expiry)", f.st.PutMemo(ctx, "k", "v", time.Time{}), core.CodeInvalid)
	_, err = f.st.FindMemo(ctx, "k", Epoch())
	wantCode(t, "FindMemo of a refused memo", err, core.CodeNotFound)
}

func testExpireMemos(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	now := At(time.Hour)
	put := func(key string, expires time.Time) {
		t.Helper()
		if err := f.st.PutMemo(ctx, key, "v-"+key, expires); err != nil {
			t.Fatalf("PutMemo(%s): %v", key, err)
		}
	}
	for _, k := range []string{"a", "b", "c"} {
		put("expired-"+k, now.Add(-time.Minute))
		put("live-"+k, now.Add(time.Minute))
	}
	n, err := f.st.ExpireMemos(ctx, now)
	if err != nil || n != 3 {
		t.Fatalf("ExpireMemos = %d, %v; want 3", n, err)
	}
	for _, k := range []string{"a", "b", "c"} {
		_, err := f.st.FindMemo(ctx, "expired-"+k, Epoch())
		wantCode(t, "FindMemo of an expired memo after ExpireMemos", err, core.CodeNotFound)
		if v, err := f.st.FindMemo(ctx, "live-"+k, now); err != nil || v != "v-live-"+k {
			t.Errorf("FindMemo of a live memo after ExpireMemos = %q, %v", v, err)
		}
	}
	if n, err := f.st.ExpireMemos(ctx, now); err != nil || n != 0 {
		t.Errorf("ExpireMemos again = %d, %v; want 0", n, err)
	}
}

// isClosed reports whether c is closed, without waiting.
func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func testLock(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	lost, release, ok, err := f.st.TryLock(ctx, "discord gateway")
	if err != nil || !ok {
		t.Fatalf("TryLock = %v, %v; want the lock", ok, err)
	}
	_, again, ok, err := f.st.TryLock(ctx, "discord gateway")
	if err != nil || ok {
		t.Fatalf("TryLock while held = %v, %v; want ok=false", ok, err)
	}
	again() // releasing a lock not taken does nothing
	_, other, ok, err := f.st.TryLock(ctx, "outbox sweeper")
	if err != nil || !ok {
		t.Errorf("TryLock(another name) = %v, %v; want the lock", ok, err)
	} else {
		other()
	}
	if _, _, ok, err := f.st.TryLock(ctx, "discord gateway"); err != nil || ok {
		t.Errorf("TryLock after a refused one was released = %v, %v; want it still held", ok, err)
	}
	if isClosed(lost) {
		t.Errorf("lost is closed while the lock is held")
	}

	release()
	lost2, release2, ok, err := f.st.TryLock(ctx, "discord gateway")
	if err != nil || !ok {
		t.Fatalf("TryLock after release = %v, %v; want the lock", ok, err)
	}
	release() // a second release must not free the new holder's lock
	if _, _, ok, err := f.st.TryLock(ctx, "discord gateway"); err != nil || ok {
		t.Errorf("TryLock after the first holder released twice = %v, %v; want it held by the second", ok, err)
	}
	release2()
	if isClosed(lost) || isClosed(lost2) {
		t.Errorf("release closed lost: only losing a lock does")
	}

	_, none, _, err := f.st.TryLock(ctx, "")
	wantCode(t, "TryLock(no name)", err, core.CodeInvalid)
	if none != nil {
		none()
	}
}

// testConcurrentLock has many goroutines try one lock at once: exactly
// one takes it.
func testConcurrentLock(t *testing.T, f *storeFixture) {
	const callers = 16
	var (
		mu       sync.Mutex
		winners  int
		releases []func()
		wg       sync.WaitGroup
	)
	start := make(chan struct{})
	for range callers {
		wg.Go(func() {
			<-start
			_, release, ok, err := f.st.TryLock(t.Context(), "leader")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("TryLock: %v", err)
			}
			if ok {
				winners++
				releases = append(releases, release)
			}
		})
	}
	close(start)
	wg.Wait()
	if winners != 1 {
		t.Errorf("%d of %d callers took the lock, want exactly 1", winners, callers)
	}
	for _, r := range releases {
		r()
	}
}

// testLockLostOnClose: a store that closes takes its locks with it, and
// their holders hear of it.
func testLockLostOnClose(t *testing.T, f *storeFixture) {
	lost, release, ok, err := f.st.TryLock(t.Context(), "discord gateway")
	if err != nil || !ok {
		t.Fatalf("TryLock = %v, %v", ok, err)
	}
	defer release()
	if err := f.st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-lost:
	case <-time.After(10 * time.Second): // a hang, not a measurement
		t.Fatal("lost was not closed when the store closed")
	}
	_, none, ok, err := f.st.TryLock(t.Context(), "another")
	if ok || core.ErrorCode(err) != core.CodeUnavailable {
		t.Errorf("TryLock after Close = %v, %v; want CodeUnavailable", ok, err)
	}
	if none != nil {
		none()
	}
}
