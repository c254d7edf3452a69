"""`chatwootai new`: a new domain that validates at once, with data files and conversation tests.

The files come from the templates in ``template/`` beside this module; which ones are written
depends on what the parent leaves to its children (see :mod:`chatwootai.scaffold.writer`).
"""

from chatwootai.scaffold.writer import Scaffold, ScaffoldError, create_domain

__all__ = ["Scaffold", "ScaffoldError", "create_domain"]
