package loadgen

import "encoding/json"

// Control returns the control lines a worker process's parent sends to its
// scenario (see Coordinator.Control), each one JSON value; nil in a run
// that is not a worker. Any goroutine may call it.
func (s *Session) Control() <-chan json.RawMessage { return s.control }

// SetReportPart stores v, as JSON, as the report's part called name (see
// Report.Parts), replacing any earlier value. It is for a worker's
// scenario to hand data to its part in the parent. Any goroutine may call
// it before Drive returns.
func (s *Session) SetReportPart(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	s.partsMu.Lock()
	defer s.partsMu.Unlock()
	if s.parts == nil {
		s.parts = map[string]json.RawMessage{}
	}
	s.parts[name] = b
	return nil
}

// ReportPart decodes the report's part called name into v. It returns false
// if the report has no such part.
func (r *Report) ReportPart(name string, v any) (bool, error) {
	b, ok := r.Parts[name]
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(b, v)
}
