"""Conversation tests as code: what a domain must do, stated in YAML and run through the service.

* :mod:`~chatwootai.convtest.schema`: the test file models (and their JSON Schema,
  :mod:`~chatwootai.convtest.jsonschema`);
* :mod:`~chatwootai.convtest.loader`: files beside each domain, inherited like the domain;
* :mod:`~chatwootai.convtest.runner`: the turns through ``ChatwootAISystem.process_message``;
* :mod:`~chatwootai.convtest.expectations` and :mod:`~chatwootai.convtest.judge`: the checks;
* :mod:`~chatwootai.convtest.report`: progress, failures, summary and JUnit XML.
"""
