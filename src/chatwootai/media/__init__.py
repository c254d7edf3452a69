"""Customer media and reply attachments: voice notes heard, images seen, documents read, files sent.

* :mod:`~chatwootai.media.attachments`: the data (attachment metadata, parts given to the model,
  files a reply carries); no I/O, imported everywhere.
* :mod:`~chatwootai.media.download`: fetching a customer's attachment from Chatwoot safely.
* :mod:`~chatwootai.media.sniff`, :mod:`~chatwootai.media.duration`: what a file really is, how
  long a recording lasts.
* :mod:`~chatwootai.media.transcribe`: speech to text through an OpenAI-compatible endpoint.
* :mod:`~chatwootai.media.documents`: a customer's PDF or text file as text for the model.
* :mod:`~chatwootai.media.vision`, :mod:`~chatwootai.media.rules`: whether a model reads images,
  and the domain's rules sending some images or files to a human or a crew.
* :mod:`~chatwootai.media.outbound`: the files a reply carries, loaded for posting.
"""
