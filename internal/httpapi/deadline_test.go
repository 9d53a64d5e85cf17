package httpapi

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestDeadlineContext: a request's deadline is carried without a timer
// until something waits on it, and then behaves as context.WithTimeout's.
func TestDeadlineContext(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, c *deadlineContext)
	}{
		{"no timer for what does not wait", func(t *testing.T, c *deadlineContext) {
			if d, ok := c.Deadline(); !ok || time.Until(d) <= 0 {
				t.Fatalf("deadline %v %v", d, ok)
			}
			if c.Err() != nil || c.Value(ctxKey{}) != "parent's" {
				t.Fatalf("err %v, value %v", c.Err(), c.Value(ctxKey{}))
			}
			if c.timed.Load() != nil {
				t.Fatal("a timer started without anything waiting")
			}
		}},
		{"done at the deadline", func(t *testing.T, c *deadlineContext) {
			select {
			case <-c.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("not done 5 s after its deadline")
			}
			if !errors.Is(c.Err(), context.DeadlineExceeded) {
				t.Fatalf("err %v", c.Err())
			}
		}},
		{"a derived context ends with it", func(t *testing.T, c *deadlineContext) {
			child, cancel := context.WithTimeout(c, time.Hour)
			defer cancel()
			if d, _ := child.Deadline(); d.After(c.deadline) {
				t.Fatalf("the child's deadline %v is after the request's %v", d, c.deadline)
			}
			select {
			case <-child.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("the derived context outlived the deadline")
			}
		}},
		{"past the deadline without a timer", func(t *testing.T, c *deadlineContext) {
			time.Sleep(60 * time.Millisecond)
			if !errors.Is(c.Err(), context.DeadlineExceeded) {
				t.Fatalf("err %v", c.Err())
			}
		}},
		{"ended: canceled, no timer from then on", func(t *testing.T, c *deadlineContext) {
			c.end()
			if !errors.Is(c.Err(), context.Canceled) {
				t.Fatalf("err %v", c.Err())
			}
			<-c.Done()
			if c.timed.Load() != nil {
				t.Fatal("a timer started after the request ended")
			}
		}},
		{"ended after a wait: the timer is released", func(t *testing.T, c *deadlineContext) {
			done := c.Done()
			c.end()
			<-done
			if !errors.Is(c.Err(), context.Canceled) {
				t.Fatalf("err %v", c.Err())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newDeadlineContext(context.WithValue(context.Background(), ctxKey{}, "parent's"), 50*time.Millisecond)
			defer c.end()
			tt.run(t, c)
		})
	}
}

type ctxKey struct{}
