package nbrm

import "time"

// SetClock replaces the client's clock, which ends Latest's window and bounds its as_of.
func SetClock(c *Client, now func() time.Time) { c.now = now }
