// `dyad analyze FILE`: the closed forms of a run of a classic model (docs/models.md)
// beside what the simulation reached, per pairing.
#pragma once
#include <string>

namespace dyad::app {

// Prints, per pairing, the closed-form steady states, the eigenvalues of the Jacobian
// there and the stability class, and the simulated long-run values beside them. For a
// model without closed forms (attachment) it says so. Returns the exit status (0);
// throws InputError for a file that is not a Dyad output.
int analyze(const std::string& file);

}  // namespace dyad::app
