package mma

import "time"

// SetClock replaces the client's clock, which picks the version parameter.
func SetClock(c *Client, now func() time.Time) { c.now = now }
