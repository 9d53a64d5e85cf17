package bnrrw

import "time"

// SetClock replaces the client's clock, which ends Latest's window.
func SetClock(c *Client, now func() time.Time) { c.now = now }
