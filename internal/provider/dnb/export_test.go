package dnb

import "time"

// SetClock replaces the client's clock, which starts Latest's window.
func SetClock(c *Client, now func() time.Time) { c.now = now }
