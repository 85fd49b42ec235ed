// Package deploy holds no Go code: it is the home of the deployment files
// (a systemd unit and sysctl drop-in, a Dockerfile, a Kubernetes example)
// and of the tests that check them against the binary they run, so that a
// changed default (descriptors per connection, the drain timeout, a port)
// cannot leave them silently wrong.
package deploy
