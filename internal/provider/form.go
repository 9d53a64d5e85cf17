package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// PostForm submits form (application/x-www-form-urlencoded) to u with
// client and classifies the outcome as Get does: the body of a 2xx, a
// permanent error for 4xx, a retryable one for 5xx, 408, 429 and network
// failures, and messages that never show u's query string. Some
// publishers serve their rates only as the answer to an HTML form (ASP.NET
// pages posting back their view state). File URLs are not supported: a
// form answer depends on what is posted.
func PostForm(ctx context.Context, client *http.Client, name, u string, form url.Values) ([]byte, error) {
	if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") {
		return nil, Permanent(TypeRequestRejected, fmt.Errorf("provider %s: %s: a form can only be posted over HTTP", name, redact(u)))
	}
	return Post(ctx, client, name, u, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte(form.Encode()))
}
