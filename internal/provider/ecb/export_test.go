package ecb

import "time"

// SetClock replaces the client's clock, which picks the history file.
func SetClock(c *Client, now func() time.Time) { c.now = now }
