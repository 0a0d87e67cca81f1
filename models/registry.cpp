#include "models/registry.hpp"

#include <stdexcept>

#include "models/attachment/model.hpp"

namespace dyad {

RunResult run_model(const RunSpec& spec, const attachment::Params& attachment, Sink& sink,
                    const ExecOptions& exec, const RunControl& control) {
  if (spec.model == "attachment") return run<attachment::Model>(spec, attachment, sink, exec, control);
  // The config reader accepts only names in model_names: reaching here is a bug.
  throw std::logic_error("run_model: unknown model " + spec.model);
}

}  // namespace dyad
