package sqlite

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	msqlite "modernc.org/sqlite"
)

// A request's state. A caller may abandon its request only while it is
// pending; once the writer has taken it, the caller waits for the answer,
// because the write may commit.
const (
	pending int32 = iota
	taken
	abandoned
)

// request is one caller's write, queued for the writer.
type request struct {
	fn    func(*wconn) error
	state atomic.Int32
	done  chan error // buffered: the writer never waits for the caller
}

// writer owns the write connection. It commits the requests pending at
// any moment in one transaction (group commit), so that one fsync serves
// all of them: throughput grows with the number of callers while a lone
// caller pays for one transaction as before. A request that fails is
// rolled back alone, to a savepoint, and the others commit.
type writer struct {
	c        *wconn
	ckpt     *checkpointer
	reqs     chan *request
	quit     chan struct{} // closed by stop
	stopped  chan struct{} // closed when run returns
	pool     sync.Pool
	maxBatch int
	batch    []*request
	errs     []error
	pages    int          // written to the WAL since the last checkpoint signal
	commits  atomic.Int64 // transactions committed, for tests
}

func newWriter(c *wconn, ckpt *checkpointer, maxBatch int) *writer {
	w := &writer{
		c:        c,
		ckpt:     ckpt,
		reqs:     make(chan *request, 4*maxBatch),
		quit:     make(chan struct{}),
		stopped:  make(chan struct{}),
		maxBatch: maxBatch,
		batch:    make([]*request, 0, maxBatch),
		errs:     make([]error, maxBatch),
	}
	w.pool.New = func() any { return &request{done: make(chan error, 1)} }
	return w
}

// do runs fn in the writer's transaction and returns its error, or the
// transaction's, once the outcome is durable. A ctx that ends before the
// writer takes the request cancels it; after that the outcome is awaited,
// whatever ctx does, so that a nil error always means committed and a
// non-nil one never does.
func (w *writer) do(ctx context.Context, fn func(*wconn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := w.pool.Get().(*request)
	r.fn = fn
	r.state.Store(pending)
	select {
	case w.reqs <- r:
	case <-ctx.Done():
		w.recycle(r)
		return ctx.Err()
	case <-w.quit:
		w.recycle(r)
		return errClosed()
	}
	select {
	case err := <-r.done:
		w.recycle(r)
		return err
	case <-ctx.Done():
		if r.state.CompareAndSwap(pending, abandoned) {
			return ctx.Err() // the writer recycles it when it comes across it
		}
	case <-w.stopped:
		// Sent after the writer drained the queue for the last time.
		if r.state.CompareAndSwap(pending, abandoned) {
			return errClosed()
		}
	}
	err := <-r.done
	w.recycle(r)
	return err
}

func (w *writer) recycle(r *request) {
	r.fn = nil
	w.pool.Put(r)
}

// stop makes run finish the queued requests and return, and waits for it.
func (w *writer) stop() {
	close(w.quit)
	<-w.stopped
}

func (w *writer) run() {
	defer close(w.stopped)
	for {
		select {
		case r := <-w.reqs:
			w.runBatch(r)
		case <-w.quit:
			for {
				select {
				case r := <-w.reqs:
					w.runBatch(r)
				default:
					return
				}
			}
		}
	}
}

// runBatch commits first and whatever else is queued, up to maxBatch.
func (w *writer) runBatch(first *request) {
	batch := w.take(w.batch[:0], first)
	// Let the callers that are ready to run queue their requests first.
	// Without this, with few processors, the writer runs as soon as one
	// caller has queued and commits one request per transaction, while
	// the others wait behind it for a processor. Alone, a caller loses
	// nothing: there is nobody to yield to.
	runtime.Gosched()
collect:
	for len(batch) < w.maxBatch {
		select {
		case r := <-w.reqs:
			batch = w.take(batch, r)
		default:
			break collect
		}
	}
	if len(batch) > 0 {
		w.commit(batch)
	}
	clear(batch)
}

// take adds r to batch unless its caller has abandoned it.
func (w *writer) take(batch []*request, r *request) []*request {
	if r.state.CompareAndSwap(pending, taken) {
		return append(batch, r)
	}
	w.recycle(r)
	return batch
}

// commit runs batch in one transaction and answers every request.
func (w *writer) commit(batch []*request) {
	errs := w.errs[:len(batch)]
	clear(errs)
	defer func() {
		for i, r := range batch {
			r.done <- errs[i]
		}
		clear(errs)
	}()
	if err := w.c.begin.do(); err != nil {
		fill(errs, fmt.Errorf("begin: %w", err))
		return
	}
	// Requests rarely fail, so the batch first runs without savepoints,
	// which cost three statements per request and a copy of every page a
	// request touches that an earlier one had already changed. When one
	// fails, its partial writes cannot be told apart from the others': the
	// whole batch starts over, each request in a savepoint of its own.
	// A request alone needs none: the transaction is its savepoint.
	failed := false
	for i, r := range batch {
		if errs[i] = w.call(r); errs[i] != nil {
			var rf refusal
			if errors.As(errs[i], &rf) {
				errs[i] = rf.err
				continue
			}
			failed = true
			break
		}
	}
	if failed && len(batch) == 1 {
		w.c.rollback.do()
		return
	}
	if failed {
		clear(errs)
		w.c.rollback.do()
		if err := w.c.begin.do(); err != nil {
			fill(errs, fmt.Errorf("begin: %w", err))
			return
		}
		if !w.isolated(batch, errs) {
			return
		}
	}
	if err := w.c.commit.do(); err != nil {
		w.c.rollback.do()
		fill(errs, fmt.Errorf("commit: %w", err))
		return
	}
	w.commits.Add(1)
	if w.ckpt != nil {
		// The count of pages written resets on every read: a running
		// total would overflow its C int.
		n, _, _ := w.c.conn.Status(msqlite.DBStatusCacheWrite, true)
		if w.pages += n; w.pages >= checkpointPages {
			w.pages = 0
			w.ckpt.signal()
		}
	}
}

// isolated runs every request of batch in a savepoint of its own, so that
// a failed one is rolled back alone, and records their errors in errs. It
// reports false when the batch itself failed and was rolled back.
func (w *writer) isolated(batch []*request, errs []error) bool {
	for i, r := range batch {
		if err := w.c.savepoint.do(); err != nil {
			w.abort(errs, err)
			return false
		}
		if errs[i] = w.call(r); errs[i] != nil {
			// A failed statement can have ended the transaction
			// (SQLITE_FULL, I/O errors); then the savepoint is gone and
			// the batch cannot go on.
			if err := w.c.rollbackTo.do(); err != nil {
				w.abort(errs, err)
				return false
			}
		}
		if err := w.c.release.do(); err != nil {
			w.abort(errs, err)
			return false
		}
	}
	return true
}

// abort rolls the whole transaction back after a failure of the batch
// itself; every request that had not failed on its own gets err.
func (w *writer) abort(errs []error, err error) {
	w.c.rollback.do()
	fill(errs, fmt.Errorf("write batch: %w", err))
}

// fill sets err wherever errs holds no error of its own.
func fill(errs []error, err error) {
	for i := range errs {
		if errs[i] == nil {
			errs[i] = err
		}
	}
}

// call runs r's function. A panic would take the writer, and every caller
// waiting on it, down with it; it fails the one request instead.
// refusal marks an error that a request returned before it wrote
// anything (a PIN already live, a stale version): the rest of the batch
// goes on as if the request had not been there. Any other error leaves
// the batch's writes suspect, so the batch runs again in savepoints.
type refusal struct{ err error }

func (r refusal) Error() string { return r.err.Error() }
func (r refusal) Unwrap() error { return r.err }

// refuse wraps err as a refusal.
func refuse(err error) error { return refusal{err} }

func (w *writer) call(r *request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v", p)
		}
	}()
	return r.fn(w.c)
}
