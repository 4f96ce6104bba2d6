"""Pages of network administration (``/administration/``) for the ``network_admin`` role.

Views parse input and render; reads go through :mod:`portal.administration.selectors`, writes
through :mod:`portal.administration.services`. Anonymous → sign-in; any other role → 403;
an unknown or out-of-scope school or member → 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.accounts.throttle import client_ip
from portal.administration import selectors, services
from portal.administration.forms import MoveForm, SchoolForm, StaffForm, UploadForm
from schools.imports import ImportFault, read_table
from schools.models import Role, School
from schools.scope import require
from schools.services import SCHOOL_CSV_COLUMNS, STAFF_CSV_COLUMNS

PAGE_SIZE = 25


def _admin(request: HttpRequest) -> None:
    require(request.scope, "can_admin_network")


def _form_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errs in exc.message_dict.items():
            target = field if field in form.fields else None
            for e in errs:
                form.add_error(target, e)
    else:
        for e in exc.messages:
            form.add_error(None, e)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    _admin(request)
    scope = request.scope
    return render(
        request,
        "administration/home.html",
        {
            "schools": selectors.admin_schools(scope=scope).count(),
            "schools_off": selectors.admin_schools(scope=scope, connected="0").count(),
            "staff": selectors.admin_staff(scope=scope).count(),
            "staff_off": selectors.admin_staff(scope=scope, active="0").count(),
        },
    )


# --------------------------------------------------------------------------- schools


@login_required
@require_GET
def school_list(request: HttpRequest) -> HttpResponse:
    _admin(request)
    scope = request.scope
    q = request.GET.get("q", "")[:100]
    district = request.GET.get("district", "")[:16]
    connected = request.GET.get("connected", "")
    qs = selectors.admin_schools(scope=scope, q=q, district=district, connected=connected)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "administration/school_list.html",
        {
            "page": page,
            "q": q,
            "district": district,
            "connected": connected,
            "districts": selectors.admin_districts(scope=scope),
            "filtered": bool(q or district or connected),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def school_create(request: HttpRequest) -> HttpResponse:
    _admin(request)
    scope = request.scope
    districts = selectors.admin_districts(scope=scope)
    form = SchoolForm(request.POST or None, districts=districts)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            school = services.school_create(
                scope=scope, actor=request.user, data=form.cleaned_data, ip=client_ip(request)
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Школа «%(name)s» добавлена.") % {"name": school.name})
            return redirect("administration:school-list")
    if request.method == "POST":
        status = 400
    return render(
        request, "administration/school_form.html", {"form": form, "school": None}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def school_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    _admin(request)
    scope = request.scope
    school = selectors.admin_school(scope=scope, public_id=public_id)
    districts = selectors.admin_districts(scope=scope)
    form = SchoolForm(
        request.POST or None, initial=services.school_row_of(school), districts=districts
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            school, changed = services.school_update(
                scope=scope,
                actor=request.user,
                school=school,
                data=form.cleaned_data,
                ip=client_ip(request),
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            if changed:
                messages.success(request, _("Изменения сохранены."))
            else:
                messages.info(request, _("Изменений нет."))
            return redirect("administration:school-list")
    if request.method == "POST":
        status = 400
    staff = selectors.admin_staff(scope=scope, school=school)
    return render(
        request,
        "administration/school_form.html",
        {"form": form, "school": school, "staff": staff[:50], "staff_count": staff.count()},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def school_deactivate(request: HttpRequest, public_id: Any) -> HttpResponse:
    """GET: what disconnecting means, and a confirmation button; POST: disconnect."""
    _admin(request)
    scope = request.scope
    school = selectors.admin_school(scope=scope, public_id=public_id)
    if request.method == "POST":
        services.school_set_connected(
            scope=scope, actor=request.user, school=school, connected=False, ip=client_ip(request)
        )
        messages.success(
            request, _("Школа «%(name)s» отключена от пилота.") % {"name": school.name}
        )
        return redirect("administration:school-list")
    return render(
        request,
        "administration/confirm.html",
        {
            "title": _("Отключить школу от пилота?"),
            "object_name": school.name,
            "consequences": [
                _(
                    "Школа перестанет учитываться в сводке сети пилота (число подключённых школ "
                    "и учащихся); её заявки, решения и сотрудники сохранятся."
                ),
                _("Сотрудники школы (%(n)s) останутся; отключить их можно на странице сотрудников.")
                % {"n": selectors.admin_staff(scope=scope, school=school).count()},
                _("Школу можно снова подключить в любой момент."),
            ],
            "action": "administration:school-deactivate",
            "object_id": school.public_id,
            "button": _("Отключить школу"),
            "back": "administration:school-list",
        },
    )


@login_required
@require_POST
def school_activate(request: HttpRequest, public_id: Any) -> HttpResponse:
    _admin(request)
    school = selectors.admin_school(scope=request.scope, public_id=public_id)
    services.school_set_connected(
        scope=request.scope,
        actor=request.user,
        school=school,
        connected=True,
        ip=client_ip(request),
    )
    messages.success(
        request, _("Школа «%(name)s» снова подключена к пилоту.") % {"name": school.name}
    )
    return redirect("administration:school-list")


# --------------------------------------------------------------------------- staff


def _unit_options(scope: Any) -> list[tuple[str, str]]:
    from schools.models import Region

    out = [(s.bin, f"{s.name} · {s.district.name}") for s in selectors.admin_schools(scope=scope)]
    out += [(d.code, f"{d.name} ({d.region.name})") for d in selectors.admin_districts(scope=scope)]
    out += [(r.code, r.name) for r in Region.objects.all()]
    return out


@login_required
@require_GET
def staff_list(request: HttpRequest) -> HttpResponse:
    _admin(request)
    scope = request.scope
    q = request.GET.get("q", "")[:100]
    role = request.GET.get("role", "")
    role = role if role in Role.values else ""
    active = request.GET.get("active", "")
    qs = selectors.admin_staff(scope=scope, q=q, role=role, active=active)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "administration/staff_list.html",
        {
            "page": page,
            "q": q,
            "role": role,
            "active": active,
            "roles": Role.choices,
            "filtered": bool(q or role or active),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def staff_create(request: HttpRequest) -> HttpResponse:
    _admin(request)
    scope = request.scope
    form = StaffForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            member = services.staff_create(
                scope=scope, actor=request.user, data=form.cleaned_data, ip=client_ip(request)
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "Учётная запись «%(login)s» создана; приглашение со ссылкой для пароля "
                    "отправлено на %(email)s."
                )
                % {"login": member.user.get_username(), "email": member.user.email},
            )
            return redirect("administration:staff-list")
    if request.method == "POST":
        status = 400
    return render(
        request,
        "administration/staff_form.html",
        {"form": form, "member": None, "units": _unit_options(scope)},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    _admin(request)
    scope = request.scope
    member = selectors.admin_member(scope=scope, public_id=public_id)
    form = StaffForm(request.POST or None, initial=services.staff_row_of(member), editing=True)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            member, changed = services.staff_update(
                scope=scope,
                actor=request.user,
                membership=member,
                data=form.cleaned_data,
                ip=client_ip(request),
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Изменения сохранены.") if changed else _("Изменений нет."))
            return redirect("administration:staff-list")
    if request.method == "POST":
        status = 400
    return render(
        request,
        "administration/staff_form.html",
        {
            "form": form,
            "member": member,
            "units": _unit_options(scope),
            "has_mfa": selectors.member_has_mfa(member),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def staff_move(request: HttpRequest, public_id: Any) -> HttpResponse:
    _admin(request)
    scope = request.scope
    member = selectors.admin_member(scope=scope, public_id=public_id)
    schools = selectors.admin_schools(scope=scope, connected="1")
    form = MoveForm(request.POST or None, schools=schools)
    status = 200
    if request.method == "POST" and form.is_valid():
        target: School | None = None
        value = form.cleaned_data.get("school") or ""
        if not value:
            form.add_error("school", _("Выберите школу."))
        else:
            try:
                target = selectors.admin_school(scope=scope, public_id=value)
            except Http404:  # an unknown school is a field error here, not a missing page
                form.add_error("school", _("Такой школы нет."))
        if target is not None:
            try:
                member = services.staff_move(
                    scope=scope,
                    actor=request.user,
                    membership=member,
                    school=target,
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(name)s переведён(а) в школу «%(school)s».")
                    % {"name": member.full_name, "school": target.name},
                )
                return redirect("administration:staff-list")
        status = 400
    return render(
        request,
        "administration/staff_move.html",
        {
            "form": form,
            "member": member,
            "movable": member.role in (Role.PEDAGOGUE, Role.PRINCIPAL),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def staff_deactivate(request: HttpRequest, public_id: Any) -> HttpResponse:
    _admin(request)
    scope = request.scope
    member = selectors.admin_member(scope=scope, public_id=public_id)
    if request.method == "POST":
        try:
            services.staff_set_active(
                scope=scope,
                actor=request.user,
                membership=member,
                active=False,
                ip=client_ip(request),
            )
        except ValidationError as exc:
            for m in exc.messages:
                messages.error(request, m)
        else:
            messages.success(
                request,
                _("Учётная запись «%(login)s» отключена.") % {"login": member.user.get_username()},
            )
        return redirect("administration:staff-list")
    return render(
        request,
        "administration/confirm.html",
        {
            "title": _("Отключить учётную запись?"),
            "object_name": f"{member.full_name} · {member.user.get_username()}",
            "consequences": [
                _("Сотрудник не сможет войти; открытые сеансы завершатся при следующем действии."),
                _("Заявки и решения, которые он внёс, сохранятся."),
                _("Учётную запись можно снова включить в любой момент."),
            ],
            "action": "administration:staff-deactivate",
            "object_id": member.public_id,
            "button": _("Отключить учётную запись"),
            "back": "administration:staff-list",
        },
    )


@login_required
@require_POST
def staff_activate(request: HttpRequest, public_id: Any) -> HttpResponse:
    _admin(request)
    member = selectors.admin_member(scope=request.scope, public_id=public_id)
    services.staff_set_active(
        scope=request.scope,
        actor=request.user,
        membership=member,
        active=True,
        ip=client_ip(request),
    )
    messages.success(
        request,
        _("Учётная запись «%(login)s» снова включена.") % {"login": member.user.get_username()},
    )
    return redirect("administration:staff-list")


@login_required
@require_http_methods(["GET", "POST"])
def staff_mfa_reset(request: HttpRequest, public_id: Any) -> HttpResponse:
    _admin(request)
    scope = request.scope
    member = selectors.admin_member(scope=scope, public_id=public_id)
    if request.method == "POST":
        try:
            services.staff_mfa_reset(
                scope=scope, actor=request.user, membership=member, ip=client_ip(request)
            )
        except ValidationError as exc:
            for m in exc.messages:
                messages.error(request, m)
        else:
            messages.success(
                request,
                _(
                    "Второй фактор «%(login)s» сброшен: при следующем входе сотрудник подключит "
                    "приложение-аутентификатор заново."
                )
                % {"login": member.user.get_username()},
            )
        return redirect("administration:staff-list")
    return render(
        request,
        "administration/confirm.html",
        {
            "title": _("Сбросить второй фактор (TOTP)?"),
            "object_name": f"{member.full_name} · {member.user.get_username()}",
            "consequences": [
                _(
                    "Приложение-аутентификатор и коды восстановления сотрудника перестанут действовать."
                ),
                _(
                    "При следующем входе портал попросит подключить приложение заново (пароль не меняется)."
                ),
                _(
                    "Сбрасывайте, только убедившись, что просит сам сотрудник (например, по телефону)."
                ),
            ],
            "action": "administration:staff-mfa-reset",
            "object_id": member.public_id,
            "button": _("Сбросить второй фактор"),
            "back": "administration:staff-list",
        },
    )


# --------------------------------------------------------------------------- imports


def _import_page(request: HttpRequest, *, kind: str) -> HttpResponse:
    _admin(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            table = read_table(upload.read(), upload.name or "")
            if isinstance(table, ImportFault):  # not a readable table at all
                form.add_error(
                    "file",
                    _("строка %(line)s: %(message)s")
                    % {"line": table.line, "message": table.message}
                    if table.line > 1
                    else table.message,
                )
            else:
                service = services.schools_import if kind == "schools" else services.staff_import
                result = service(
                    scope=request.scope, actor=request.user, table=table, ip=client_ip(request)
                )
                if result.ok:
                    if kind == "schools":
                        messages.success(
                            request,
                            _("Импортировано: создано %(c)s, обновлено %(u)s.")
                            % {"c": result.created, "u": result.updated},
                        )
                        return redirect("administration:school-list")
                    messages.success(
                        request,
                        _("Создано учётных записей: %(c)s; приглашения отправлены.")
                        % {"c": result.created},
                    )
                    return redirect("administration:staff-list")
    return render(
        request,
        "administration/import.html",
        {
            "form": form,
            "result": result,
            "kind": kind,
            "columns": SCHOOL_CSV_COLUMNS if kind == "schools" else STAFF_CSV_COLUMNS,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_schools(request: HttpRequest) -> HttpResponse:
    return _import_page(request, kind="schools")


@login_required
@require_http_methods(["GET", "POST"])
def import_staff(request: HttpRequest) -> HttpResponse:
    return _import_page(request, kind="staff")
