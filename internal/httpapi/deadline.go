package httpapi

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// deadlineContext carries a request's deadline (REQUEST_TIMEOUT) without
// a timer until something waits on it: Deadline answers at once (the
// PostgreSQL and Redis clients bound their calls by it), and Done, which
// only a call that waits asks for, starts the timer then. A request
// answered from memory so pays no timer, while every I/O it does is
// bounded exactly as under context.WithTimeout.
type deadlineContext struct {
	context.Context // the parent
	deadline        time.Time
	once            sync.Once
	timed           atomic.Pointer[timedContext]
	// ended is set when the request has finished: the context is then
	// canceled, as WithTimeout's cancel would have left it.
	ended atomic.Bool
}

type timedContext struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// closed is the Done channel of an ended request.
var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func newDeadlineContext(parent context.Context, d time.Duration) *deadlineContext {
	return &deadlineContext{Context: parent, deadline: time.Now().Add(d)}
}

func (c *deadlineContext) Deadline() (time.Time, bool) {
	if d, ok := c.Context.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

func (c *deadlineContext) Done() <-chan struct{} {
	if t := c.timer(); t != nil {
		return t.ctx.Done()
	}
	return closed
}

// AfterFunc lets a context derived from this one (a client's own
// timeout) be canceled with it without a goroutine of the context
// package's watching Done (see context.AfterFunc).
func (c *deadlineContext) AfterFunc(f func()) func() bool {
	if t := c.timer(); t != nil {
		return context.AfterFunc(t.ctx, f)
	}
	go f()
	return func() bool { return false }
}

// timer starts the timer on first use; nil once the request has ended.
func (c *deadlineContext) timer() *timedContext {
	if !c.ended.Load() {
		c.once.Do(func() {
			ctx, cancel := context.WithDeadline(c.Context, c.deadline)
			c.timed.Store(&timedContext{ctx, cancel})
		})
	}
	return c.timed.Load()
}

func (c *deadlineContext) Err() error {
	if t := c.timed.Load(); t != nil {
		return t.ctx.Err()
	}
	if c.ended.Load() {
		return context.Canceled
	}
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// end releases the timer, if one was started, and cancels the context.
func (c *deadlineContext) end() {
	c.ended.Store(true)
	c.once.Do(func() {}) // no timer from now on
	if t := c.timed.Load(); t != nil {
		t.cancel()
	}
}
