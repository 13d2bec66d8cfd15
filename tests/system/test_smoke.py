from tests.conftest import log_in


def test_admin_signs_in_and_sees_the_quarter(app, client, make_user):
    admin = make_user("admin")
    response = log_in(client, admin.email)
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert "FY" in page.get_data(as_text=True)
