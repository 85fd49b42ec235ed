// Package dashboard serves the live dashboard of a myriad node: one
// self-contained page (HTML, CSS and script in one embedded file, nothing
// from a CDN) that polls a JSON reading of the node about once a second
// and draws small SVG charts from it.
//
// The page is public, since it holds no data; the readings are behind the
// caller's Authorize (the myriad command checks its API key, which the
// page asks for in a login form, keeps in sessionStorage and sends as
// Authorization: Bearer).
package dashboard
