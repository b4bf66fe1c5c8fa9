// Package groupcommit is the SQLite store's writer: one goroutine that
// owns the write connection and commits the requests pending at any moment
// in one transaction (group commit), so that one fsync serves all of them.
// Throughput grows with the number of callers while a lone caller pays for
// one transaction as before. A request that fails is rolled back alone, to
// a savepoint, and the others commit.
//
// The writer knows nothing of the store's tables: it hands each request
// the connection value it was made with, and drives the transactions
// through a Tx.
package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Tx begins and ends the transactions of the writer's connection, and the
// savepoint within one that isolates a request from the others.
type Tx interface {
	Begin() error
	Commit() error
	Rollback() error
	Savepoint() error
	Release() error
	RollbackTo() error
}

// Options configure a Writer.
type Options struct {
	// Tx drives the transactions of the connection. Required.
	Tx Tx
	// MaxBatch caps how many requests share one transaction. Required,
	// at least 1.
	MaxBatch int
	// Closed returns the error of a request made after Stop. Required.
	Closed func() error
	// Committed, when set, is called on the writer's goroutine after each
	// transaction commits.
	Committed func()
}

// A request's state. A caller may abandon its request only while it is
// pending; once the writer has taken it, the caller waits for the answer,
// because the write may commit.
const (
	pending int32 = iota
	taken
	abandoned
)

// request is one caller's write, queued for the writer.
type request[C any] struct {
	fn    func(C) error
	state atomic.Int32
	done  chan error // buffered: the writer never waits for the caller
}

// Writer owns the write connection, c, and runs the requests on it in
// batches, one transaction each. Run runs it; Do queues a request.
type Writer[C any] struct {
	c       C
	o       Options
	reqs    chan *request[C]
	quit    chan struct{} // closed by Stop
	stopped chan struct{} // closed when Run returns
	pool    sync.Pool
	batch   []*request[C]
	errs    []error
	commits atomic.Int64 // transactions committed
}

// New returns a writer that runs requests on c. Start it with Run.
func New[C any](c C, o Options) *Writer[C] {
	w := &Writer[C]{
		c:       c,
		o:       o,
		reqs:    make(chan *request[C], 4*o.MaxBatch),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
		batch:   make([]*request[C], 0, o.MaxBatch),
		errs:    make([]error, o.MaxBatch),
	}
	w.pool.New = func() any { return &request[C]{done: make(chan error, 1)} }
	return w
}

// Do runs fn in the writer's transaction and returns its error, or the
// transaction's, once the outcome is durable. A ctx that ends before the
// writer takes the request cancels it; after that the outcome is awaited,
// whatever ctx does, so that a nil error always means committed and a
// non-nil one never does.
//
// fn runs on the writer's goroutine, with the other requests of its batch
// waiting: it should only execute statements, their arguments built
// beforehand. When another request of its batch fails, it runs again (see
// Refuse), so it must keep only its last run's results.
func (w *Writer[C]) Do(ctx context.Context, fn func(C) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := w.pool.Get().(*request[C])
	r.fn = fn
	r.state.Store(pending)
	select {
	case w.reqs <- r:
	case <-ctx.Done():
		w.recycle(r)
		return ctx.Err()
	case <-w.quit:
		w.recycle(r)
		return w.o.Closed()
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
			return w.o.Closed()
		}
	}
	err := <-r.done
	w.recycle(r)
	return err
}

func (w *Writer[C]) recycle(r *request[C]) {
	r.fn = nil
	w.pool.Put(r)
}

// Commits returns the number of transactions committed so far.
func (w *Writer[C]) Commits() int64 { return w.commits.Load() }

// Queued returns the number of requests waiting for the writer.
func (w *Writer[C]) Queued() int { return len(w.reqs) }

// Stop makes Run finish the queued requests and return, and waits for it.
func (w *Writer[C]) Stop() {
	close(w.quit)
	<-w.stopped
}

// Run runs the requests as they come, until Stop.
func (w *Writer[C]) Run() {
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

// runBatch commits first and whatever else is queued, up to MaxBatch.
func (w *Writer[C]) runBatch(first *request[C]) {
	batch := w.take(w.batch[:0], first)
	// Let the callers that are ready to run queue their requests first.
	// Without this, with few processors, the writer runs as soon as one
	// caller has queued and commits one request per transaction, while
	// the others wait behind it for a processor. Alone, a caller loses
	// nothing: there is nobody to yield to.
	runtime.Gosched()
collect:
	for len(batch) < w.o.MaxBatch {
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
func (w *Writer[C]) take(batch []*request[C], r *request[C]) []*request[C] {
	if r.state.CompareAndSwap(pending, taken) {
		return append(batch, r)
	}
	w.recycle(r)
	return batch
}

// commit runs batch in one transaction and answers every request.
func (w *Writer[C]) commit(batch []*request[C]) {
	tx := w.o.Tx
	errs := w.errs[:len(batch)]
	clear(errs)
	defer func() {
		for i, r := range batch {
			r.done <- errs[i]
		}
		clear(errs)
	}()
	if err := tx.Begin(); err != nil {
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
		tx.Rollback()
		return
	}
	if failed {
		clear(errs)
		tx.Rollback()
		if err := tx.Begin(); err != nil {
			fill(errs, fmt.Errorf("begin: %w", err))
			return
		}
		if !w.isolated(batch, errs) {
			return
		}
	}
	if err := tx.Commit(); err != nil {
		tx.Rollback()
		fill(errs, fmt.Errorf("commit: %w", err))
		return
	}
	w.commits.Add(1)
	if w.o.Committed != nil {
		w.o.Committed()
	}
}

// isolated runs every request of batch in a savepoint of its own, so that
// a failed one is rolled back alone, and records their errors in errs. It
// reports false when the batch itself failed and was rolled back.
func (w *Writer[C]) isolated(batch []*request[C], errs []error) bool {
	tx := w.o.Tx
	for i, r := range batch {
		if err := tx.Savepoint(); err != nil {
			w.abort(errs, err)
			return false
		}
		if errs[i] = w.call(r); errs[i] != nil {
			// A failed statement can have ended the transaction
			// (SQLITE_FULL, I/O errors); then the savepoint is gone and
			// the batch cannot go on.
			if err := tx.RollbackTo(); err != nil {
				w.abort(errs, err)
				return false
			}
		}
		if err := tx.Release(); err != nil {
			w.abort(errs, err)
			return false
		}
	}
	return true
}

// abort rolls the whole transaction back after a failure of the batch
// itself; every request that had not failed on its own gets err.
func (w *Writer[C]) abort(errs []error, err error) {
	w.o.Tx.Rollback()
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

// refusal marks an error that a request returned before it wrote
// anything (a PIN already live, a stale version): the rest of the batch
// goes on as if the request had not been there. Any other error leaves
// the batch's writes suspect, so the batch runs again in savepoints.
type refusal struct{ err error }

func (r refusal) Error() string { return r.err.Error() }
func (r refusal) Unwrap() error { return r.err }

// Refuse wraps err, which a request returns before it wrote anything, as
// a refusal: the request fails with err and the rest of its batch commits
// without running again. A request that wrote must not refuse.
func Refuse(err error) error { return refusal{err} }

// call runs r's function. A panic would take the writer, and every caller
// waiting on it, down with it; it fails the one request instead.
func (w *Writer[C]) call(r *request[C]) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v", p)
		}
	}()
	return r.fn(w.c)
}
