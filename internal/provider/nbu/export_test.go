package nbu

import "time"

// SetClock replaces the client's clock, which places Latest's window.
func SetClock(c *Client, now func() time.Time) { c.now = now }
